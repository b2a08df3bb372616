//! Every transcendental function the engine calls: `exp`, `ln`, `powf`… from the pure-Rust `libm`
//! crate, and a cube root of our own, never the platform's C library.
//! Invariant: these are plain arithmetic, so a replay gives the same bits on every CPU and libc.
//! glibc alone picks among variants of `exp` by CPU feature (FMA or not), and a receipt signed
//! on one machine must re-simulate on another (SIMULATION.md §1.5). `sim/clippy.toml` refuses
//! the `f64` methods these replace.

/// e^x.
#[inline]
pub(crate) fn exp(x: f64) -> f64 {
    libm::exp(x)
}

/// e^x − 1, accurate near 0.
#[inline]
pub(crate) fn exp_m1(x: f64) -> f64 {
    libm::expm1(x)
}

/// Natural logarithm.
#[inline]
pub(crate) fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// x^y.
#[inline]
pub(crate) fn powf(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

/// Sine.
#[inline]
pub(crate) fn sin(x: f64) -> f64 {
    libm::sin(x)
}

/// Cosine.
#[inline]
pub(crate) fn cos(x: f64) -> f64 {
    libm::cos(x)
}

/// Cube root to within 0.667 ulp (FreeBSD's `s_cbrt.c`, as musl has it): a bit-level first guess,
/// a polynomial to 23 bits, and one rounded Newton–Raphson step. The standard library's `cbrt`
/// rounds correctly, at several times the cost, for a last-bit difference Wilson–Hilferty can't
/// see; being plain arithmetic, this one also gives the same bits on every platform.
///
/// The algorithm and its constants come from fdlibm, whose notice is kept as it asks:
/// Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
/// Developed at SunPro, a Sun Microsystems, Inc. business. Permission to use, copy, modify, and
/// distribute this software is freely granted, provided that this notice is preserved.
/// Optimized by Bruce D. Evans.
pub(crate) fn cbrt(x: f64) -> f64 {
    // B1 = (1023 − 1023/3 − 0.03306235651)·2²⁰, B2 the same for inputs scaled by 2⁵⁴.
    const B1: u32 = 715_094_163;
    const B2: u32 = 696_219_795;
    // |1/cbrt(x) − p(x)| < 2^−23.5.
    const P0: f64 = 1.875_951_824_271_77;
    const P1: f64 = -1.884_979_795_433_771_7;
    const P2: f64 = 1.621_429_720_105_354_5;
    const P3: f64 = -0.758_397_934_778_766;
    const P4: f64 = 0.145_996_192_886_612_45;
    let mut ui = x.to_bits();
    let mut hx = (ui >> 32) as u32 & 0x7fff_ffff;
    if hx >= 0x7ff0_0000 {
        // NaN and infinities are their own cube roots.
        return x + x;
    }
    if hx < 0x0010_0000 {
        // Zero or subnormal: scale by 2⁵⁴ first.
        ui = (x * f64::from_bits(0x4350_0000_0000_0000)).to_bits();
        hx = (ui >> 32) as u32 & 0x7fff_ffff;
        if hx == 0 {
            return x;
        }
        hx = hx / 3 + B2;
    } else {
        hx = hx / 3 + B1;
    }
    ui &= 1 << 63;
    ui |= u64::from(hx) << 32;
    let mut t = f64::from_bits(ui);
    // Polynomial to 23 bits.
    let r = (t * t) * (t / x);
    t *= (P0 + r * (P1 + r * P2)) + ((r * r) * r) * (P3 + r * P4);
    // Round t to 23 bits away from zero, so that t·t is exact and t is larger than the root.
    t = f64::from_bits((t.to_bits() + 0x8000_0000) & 0xffff_ffff_c000_0000);
    // One Newton step to 53 bits, error ≤ 0.667 ulp.
    let s = t * t;
    let r = x / s;
    let w = t + t;
    let r = (r - t) / (w + r);
    t + t * r
}

#[cfg(test)]
mod tests {
    #![expect(
        clippy::disallowed_methods,
        reason = "the platform's functions are the yardstick here"
    )]

    use super::*;

    /// `bits_digest()` as computed with libm 0.2.16 and this file's `cbrt`.
    const RECORDED: u64 = 0x54f8_e2a9_7523_a870;

    #[test]
    fn cbrt_is_within_an_ulp() {
        let mut x = 1.234_567e-300_f64;
        while x < 1e300 {
            for y in [x, -x, x * 1.000_000_1, x * 0.7] {
                let (got, want) = (cbrt(y), y.cbrt());
                assert!(
                    (got - want).abs() <= want.abs() * 2.3e-16,
                    "{y}: {got} vs {want}"
                );
            }
            x *= 1.37;
        }
        assert_eq!(cbrt(0.0), 0.0);
        assert_eq!(cbrt(8.0), 2.0);
        assert_eq!(cbrt(f64::INFINITY), f64::INFINITY);
        assert!(cbrt(f64::NAN).is_nan());
        assert!((cbrt(5e-320) - 5e-320f64.cbrt()).abs() <= 5e-320f64.cbrt() * 2.3e-16);
    }

    /// FNV-1a over the bits of every function on a fixed sweep of arguments.
    fn bits_digest() -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut mix = |x: f64| {
            for b in x.to_bits().to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        };
        for i in 1..5000 {
            let x = f64::from(i) * 0.004_321 - 10.0;
            let y = f64::from(i) * 0.3719;
            mix(exp(x));
            mix(exp_m1(x));
            mix(sin(x * 7.0));
            mix(cos(x * 7.0));
            mix(ln(y));
            mix(powf(y, -0.9));
            mix(powf(y, 1.0 / 3.0));
            mix(cbrt(x * 1.0e3));
        }
        h
    }

    #[test]
    fn bits_are_the_recorded_ones() {
        // The engine's results, and so every receipt, depend on these exact bits. Recorded on
        // x86_64 Linux: a different value on another machine means the bundled functions are
        // not platform-independent after all; after a `libm` upgrade, that it rounds
        // differently (bump the engine version and regenerate the goldens).
        assert_eq!(bits_digest(), RECORDED, "got {:#018x}", bits_digest());
    }

    #[test]
    fn bundled_functions_agree_with_the_platform() {
        // Both sides are within an ulp or so of the truth: agreement to a few ulps (absolute
        // near a zero of sin, cos or ln) shows the wrappers call the right functions.
        let close = |a: f64, b: f64| (a - b).abs() <= b.abs() * 1e-15 + 1e-16;
        for i in 1..2000 {
            let x = f64::from(i) * 0.0137 - 10.0;
            assert!(close(exp(x), x.exp()), "exp({x})");
            assert!(close(exp_m1(x), x.exp_m1()), "exp_m1({x})");
            assert!(close(sin(x), x.sin()), "sin({x})");
            assert!(close(cos(x), x.cos()), "cos({x})");
            let y = f64::from(i) * 0.731;
            assert!(close(ln(y), y.ln()), "ln({y})");
            assert!(close(powf(y, -0.9), y.powf(-0.9)), "powf({y})");
        }
    }
}
