//! A request-level discrete-event reference simulator, test-only: the oracle the fluid engine is
//! held against on scenario traces (SIMULATION.md §1.6). Every request, attempt, timer, service
//! completion and cache fill is an event; nothing here is a rate or a formula.
//! Invariant: it shares no code or model with `stampede_sim`, and it is deterministic — one seeded
//! PRNG consumed in a fixed order, events ordered by (time, insertion sequence) — so a seed gives
//! the same trace on every run and a disagreement is never a flake.
#![expect(
    clippy::disallowed_methods,
    reason = "the oracle shares no code with the engine, its math library included"
)]

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// xoshiro256** seeded through SplitMix64: small, fast, and good enough that sampling noise,
/// not generator artefacts, is the only error source.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose whole stream is fixed by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        let mut z = seed;
        let mut splitmix = || {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 31)
        };
        Self {
            s: [splitmix(), splitmix(), splitmix(), splitmix()],
        }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let out = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        out
    }

    /// Uniform in (0, 1]; never 0, so its logarithm is finite.
    pub(crate) fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// Exponential with the given mean.
    pub(crate) fn exp(&mut self, mean: f64) -> f64 {
        -mean * self.uniform().ln()
    }
}

/// An event due at `t`; `seq` breaks ties in insertion order so equal times never depend on the
/// heap's internal layout.
#[derive(Debug)]
struct Due<E> {
    t: f64,
    seq: u64,
    ev: E,
}

impl<E> PartialEq for Due<E> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<E> Eq for Due<E> {}
impl<E> PartialOrd for Due<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Due<E> {
    // Reversed: `BinaryHeap` is a max-heap and the earliest event must come out first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .t
            .total_cmp(&self.t)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// The event heap.
#[derive(Debug)]
pub(crate) struct Agenda<E> {
    heap: BinaryHeap<Due<E>>,
    seq: u64,
}

impl<E> Agenda<E> {
    /// An empty agenda.
    pub(crate) fn new() -> Self {
        Self {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }

    /// Schedules `ev` at time `t`.
    pub(crate) fn at(&mut self, t: f64, ev: E) {
        self.seq += 1;
        self.heap.push(Due {
            t,
            seq: self.seq,
            ev,
        });
    }

    /// The earliest event and its time.
    pub(crate) fn pop(&mut self) -> Option<(f64, E)> {
        self.heap.pop().map(|d| (d.t, d.ev))
    }
}

/// A FIFO queue in front of `c` identical servers. It only tracks who holds a server and who
/// waits; the caller draws service times, so a slowdown applies to services that start during it.
#[derive(Debug)]
pub(crate) struct Fifo<J> {
    servers: usize,
    busy: usize,
    waiting: VecDeque<J>,
}

impl<J> Fifo<J> {
    /// `servers` idle servers and an unbounded queue.
    pub(crate) fn new(servers: usize) -> Self {
        Self {
            servers,
            busy: 0,
            waiting: VecDeque::new(),
        }
    }

    /// A job arrives: returns it if a server was free and it starts now, else it waits.
    pub(crate) fn arrive(&mut self, job: J) -> Option<J> {
        if self.busy < self.servers {
            self.busy += 1;
            Some(job)
        } else {
            self.waiting.push_back(job);
            None
        }
    }

    /// A service ended: returns the next job to start on the freed server, if any waits.
    pub(crate) fn depart(&mut self) -> Option<J> {
        let next = self.waiting.pop_front();
        if next.is_none() {
            self.busy -= 1;
        }
        next
    }
}

/// Counts per one-second bin; events past the end are not counted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bins(pub(crate) Vec<f64>);

impl Bins {
    fn new(seconds: usize) -> Self {
        Self(vec![0.0; seconds])
    }

    fn add(&mut self, t: f64, x: f64) {
        if t >= 0.0
            && let Some(b) = self.0.get_mut(t as usize)
        {
            *b += x;
        }
    }

    fn accumulate(&mut self, other: &Bins, w: f64) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a += w * b;
        }
    }
}

/// Users → one FIFO server group, with a client timeout, retries and backoff, and a slowdown.
#[derive(Debug, Clone)]
pub(crate) struct RetryStorm {
    /// Poisson arrival rate of new (logical) requests, /s.
    pub(crate) rate: f64,
    /// Servers.
    pub(crate) servers: usize,
    /// Mean exponential service time, s.
    pub(crate) service_s: f64,
    /// Service times of services that start in `[slow_from, slow_until)` are multiplied by this.
    pub(crate) slow_factor: f64,
    /// Start of the slowdown, s.
    pub(crate) slow_from: f64,
    /// End of the slowdown, s.
    pub(crate) slow_until: f64,
    /// The client abandons an attempt after this long, s; the server never learns of it.
    pub(crate) timeout_s: f64,
    /// Retries after the first attempt.
    pub(crate) retries: u32,
    /// Wait after a timeout before retry g+1 is `backoff_s · 2^g`.
    pub(crate) backoff_s: f64,
    /// New requests arrive during `[0, duration_s)`; the run continues until every one resolves.
    pub(crate) duration_s: f64,
}

/// A retry-storm run, per second: requests by the second they arrived in (outcomes), attempts and
/// completions by the second they happened in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RetryTrace {
    /// New requests.
    pub(crate) offered: Bins,
    /// Requests that eventually succeeded, by arrival second.
    pub(crate) goodput: Bins,
    /// Requests that failed every attempt, by arrival second.
    pub(crate) failed: Bins,
    /// Attempts reaching the server (first tries and retries).
    pub(crate) attempts: Bins,
    /// Of which retries.
    pub(crate) retries: Bins,
    /// Services completed, whether or not the client still waited.
    pub(crate) served: Bins,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Pending,
    Ok,
    Failed,
}

#[derive(Debug)]
struct Request {
    born: f64,
    attempt: u32,
    outcome: Outcome,
}

#[derive(Debug)]
enum StormEv {
    Arrive,
    Attempt(usize),
    Timeout(usize, u32),
    Done(usize, u32),
}

impl RetryStorm {
    /// One run with `seed`.
    pub(crate) fn run(&self, seed: u64) -> RetryTrace {
        let mut tr = self.empty_trace();
        let mut rng = Rng::new(seed);
        let mut agenda = Agenda::new();
        let mut server: Fifo<(usize, u32)> = Fifo::new(self.servers);
        let mut reqs: Vec<Request> = Vec::new();
        agenda.at(rng.exp(1.0 / self.rate), StormEv::Arrive);
        let mean_service = |t: f64| {
            if (self.slow_from..self.slow_until).contains(&t) {
                self.service_s * self.slow_factor
            } else {
                self.service_s
            }
        };
        while let Some((t, ev)) = agenda.pop() {
            match ev {
                StormEv::Arrive => {
                    if t >= self.duration_s {
                        continue;
                    }
                    tr.offered.add(t, 1.0);
                    reqs.push(Request {
                        born: t,
                        attempt: 0,
                        outcome: Outcome::Pending,
                    });
                    agenda.at(t, StormEv::Attempt(reqs.len() - 1));
                    agenda.at(t + rng.exp(1.0 / self.rate), StormEv::Arrive);
                }
                StormEv::Attempt(r) => {
                    let g = reqs[r].attempt;
                    tr.attempts.add(t, 1.0);
                    if g > 0 {
                        tr.retries.add(t, 1.0);
                    }
                    if let Some(job) = server.arrive((r, g)) {
                        agenda.at(t + rng.exp(mean_service(t)), StormEv::Done(job.0, job.1));
                    }
                    agenda.at(t + self.timeout_s, StormEv::Timeout(r, g));
                }
                StormEv::Done(r, g) => {
                    tr.served.add(t, 1.0);
                    let q = &mut reqs[r];
                    // Only the attempt the client still waits on counts; earlier ones were
                    // abandoned, and their service was wasted work.
                    if q.outcome == Outcome::Pending && q.attempt == g {
                        q.outcome = Outcome::Ok;
                        tr.goodput.add(q.born, 1.0);
                    }
                    if let Some(job) = server.depart() {
                        agenda.at(t + rng.exp(mean_service(t)), StormEv::Done(job.0, job.1));
                    }
                }
                StormEv::Timeout(r, g) => {
                    let q = &mut reqs[r];
                    if q.outcome != Outcome::Pending || q.attempt != g {
                        continue;
                    }
                    if g < self.retries {
                        q.attempt = g + 1;
                        let wait = self.backoff_s * 2f64.powi(g as i32);
                        agenda.at(t + wait, StormEv::Attempt(r));
                    } else {
                        q.outcome = Outcome::Failed;
                        tr.failed.add(q.born, 1.0);
                    }
                }
            }
        }
        tr
    }

    /// The mean trace over `runs` independent seeds from `seed`: an estimate of the expected
    /// trajectory, which is what a fluid model claims to compute.
    pub(crate) fn ensemble(&self, seed: u64, runs: u64) -> RetryTrace {
        let w = 1.0 / runs as f64;
        let mut m = self.empty_trace();
        for i in 0..runs {
            let t = self.run(seed + i);
            m.offered.accumulate(&t.offered, w);
            m.goodput.accumulate(&t.goodput, w);
            m.failed.accumulate(&t.failed, w);
            m.attempts.accumulate(&t.attempts, w);
            m.retries.accumulate(&t.retries, w);
            m.served.accumulate(&t.served, w);
        }
        m
    }

    fn empty_trace(&self) -> RetryTrace {
        let secs = self.duration_s.ceil() as usize;
        RetryTrace {
            offered: Bins::new(secs),
            goodput: Bins::new(secs),
            failed: Bins::new(secs),
            attempts: Bins::new(secs),
            retries: Bins::new(secs),
            served: Bins::new(secs),
        }
    }
}

/// Zipf(s) over keys 0..n (key 0 hottest), sampled by inverting the exact CDF.
#[derive(Debug, Clone)]
pub(crate) struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    /// The distribution over `n` keys with exponent `s`.
    pub(crate) fn new(n: usize, s: f64) -> Self {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (1..=n)
            .map(|i| {
                acc += (i as f64).powf(-s);
                acc
            })
            .collect();
        for c in &mut cdf {
            *c /= acc;
        }
        Self { cdf }
    }

    /// A key.
    pub(crate) fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.uniform();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

/// An exact LRU cache over keys 0..n, as an intrusive doubly linked list in arrays (index n is
/// the sentinel: its `next` is the most recent key, its `prev` the least recent).
#[derive(Debug, Clone)]
pub(crate) struct Lru {
    capacity: usize,
    len: usize,
    prev: Vec<usize>,
    next: Vec<usize>,
    resident: Vec<bool>,
}

impl Lru {
    /// An empty cache of `capacity` entries over `keys` keys.
    pub(crate) fn new(keys: usize, capacity: usize) -> Self {
        let mut c = Self {
            capacity,
            len: 0,
            prev: vec![0; keys + 1],
            next: vec![0; keys + 1],
            resident: vec![false; keys],
        };
        c.clear();
        c
    }

    /// Drops every entry (a flush).
    pub(crate) fn clear(&mut self) {
        let head = self.resident.len();
        self.resident.fill(false);
        self.len = 0;
        self.prev[head] = head;
        self.next[head] = head;
    }

    fn unlink(&mut self, k: usize) {
        let (p, n) = (self.prev[k], self.next[k]);
        self.next[p] = n;
        self.prev[n] = p;
    }

    fn push_front(&mut self, k: usize) {
        let head = self.resident.len();
        let first = self.next[head];
        self.prev[k] = head;
        self.next[k] = first;
        self.prev[first] = k;
        self.next[head] = k;
    }

    /// A lookup: true on a hit, which also makes the key the most recent.
    pub(crate) fn get(&mut self, k: usize) -> bool {
        if self.resident[k] {
            self.unlink(k);
            self.push_front(k);
            true
        } else {
            false
        }
    }

    /// Stores `k` as the most recent entry, evicting the least recent when full.
    pub(crate) fn put(&mut self, k: usize) {
        if self.capacity == 0 {
            return;
        }
        if self.resident[k] {
            self.unlink(k);
        } else {
            if self.len == self.capacity {
                let head = self.resident.len();
                let victim = self.prev[head];
                self.unlink(victim);
                self.resident[victim] = false;
                self.len -= 1;
            }
            self.resident[k] = true;
            self.len += 1;
        }
        self.push_front(k);
    }
}

/// Users → look-aside LRU cache → a FIFO backend, reads only, Zipf keys, one flush.
#[derive(Debug, Clone)]
pub(crate) struct CacheFlush {
    /// Poisson read rate, /s.
    pub(crate) rate: f64,
    /// Distinct keys.
    pub(crate) keys: usize,
    /// Zipf exponent.
    pub(crate) zipf_s: f64,
    /// Cache entries.
    pub(crate) capacity: usize,
    /// Every entry is dropped at this time, s.
    pub(crate) flush_at: f64,
    /// Backend servers.
    pub(crate) db_servers: usize,
    /// Mean exponential backend service time, s.
    pub(crate) db_service_s: f64,
    /// Length of the run, s.
    pub(crate) duration_s: f64,
}

/// A cache-flush run, per second.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CacheTrace {
    /// Reads.
    pub(crate) lookups: Bins,
    /// Reads answered by the cache.
    pub(crate) hits: Bins,
    /// Reads arriving at the backend (the misses).
    pub(crate) db: Bins,
}

impl CacheTrace {
    /// Hit ratio in each second.
    pub(crate) fn hit_ratio(&self) -> Vec<f64> {
        self.hits
            .0
            .iter()
            .zip(&self.lookups.0)
            .map(|(h, l)| if *l > 0.0 { h / l } else { 0.0 })
            .collect()
    }
}

#[derive(Debug)]
enum CacheEv {
    Arrive,
    Flush,
    Filled(usize),
}

impl CacheFlush {
    /// One run with `seed`. The cache starts in its steady state: before t = 0 the same key
    /// stream runs through it, uncounted, until many times its capacity has been requested.
    pub(crate) fn run(&self, seed: u64) -> CacheTrace {
        let secs = self.duration_s.ceil() as usize;
        let mut tr = CacheTrace {
            lookups: Bins::new(secs),
            hits: Bins::new(secs),
            db: Bins::new(secs),
        };
        let mut rng = Rng::new(seed);
        let zipf = Zipf::new(self.keys, self.zipf_s);
        let mut lru = Lru::new(self.keys, self.capacity);
        for _ in 0..self.capacity * 50 {
            let k = zipf.sample(&mut rng);
            if !lru.get(k) {
                lru.put(k);
            }
        }
        let mut agenda = Agenda::new();
        let mut db: Fifo<usize> = Fifo::new(self.db_servers);
        agenda.at(self.flush_at, CacheEv::Flush);
        agenda.at(rng.exp(1.0 / self.rate), CacheEv::Arrive);
        while let Some((t, ev)) = agenda.pop() {
            if t >= self.duration_s {
                break;
            }
            match ev {
                CacheEv::Arrive => {
                    let k = zipf.sample(&mut rng);
                    tr.lookups.add(t, 1.0);
                    if lru.get(k) {
                        tr.hits.add(t, 1.0);
                    } else {
                        // Look-aside: the caller reads the backend and fills the cache when the
                        // answer comes back, so misses on a key in flight also reach the backend.
                        tr.db.add(t, 1.0);
                        if let Some(k) = db.arrive(k) {
                            agenda.at(t + rng.exp(self.db_service_s), CacheEv::Filled(k));
                        }
                    }
                    agenda.at(t + rng.exp(1.0 / self.rate), CacheEv::Arrive);
                }
                CacheEv::Flush => lru.clear(),
                CacheEv::Filled(k) => {
                    lru.put(k);
                    if let Some(k) = db.depart() {
                        agenda.at(t + rng.exp(self.db_service_s), CacheEv::Filled(k));
                    }
                }
            }
        }
        tr
    }

    /// The mean trace over `runs` independent seeds from `seed`.
    pub(crate) fn ensemble(&self, seed: u64, runs: u64) -> CacheTrace {
        let secs = self.duration_s.ceil() as usize;
        let mut m = CacheTrace {
            lookups: Bins::new(secs),
            hits: Bins::new(secs),
            db: Bins::new(secs),
        };
        let w = 1.0 / runs as f64;
        for i in 0..runs {
            let t = self.run(seed + i);
            m.lookups.accumulate(&t.lookups, w);
            m.hits.accumulate(&t.hits, w);
            m.db.accumulate(&t.db, w);
        }
        m
    }
}
