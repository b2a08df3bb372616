// A form over a flat settings object (node config, edge config, autoscale, breaker): shows the
// effective values and applies only the fields the player changed. Invariant: `onApply` gets a
// non-empty object of parsed, changed values, never strings or NaN.
import { useEffect, useId, useState, type FormEvent } from "react";
import type { FieldSpec } from "./settings";

type Draft = Record<string, string | boolean>;

function toDraft(fields: FieldSpec[], value: Record<string, unknown>): Draft {
  const d: Draft = {};
  for (const f of fields) {
    const v = value[f.key];
    d[f.key] = f.type === "bool" ? v === true : v === undefined || v === null ? "" : String(v);
  }
  return d;
}

interface Props {
  fields: FieldSpec[];
  value: Record<string, unknown>;
  disabled: boolean;
  submitLabel?: string;
  /** When true, every field is sent (a new sub-object such as a first autoscale policy). */
  sendAll?: boolean;
  onApply: (changes: Record<string, unknown>) => void;
  testId?: string;
}

export function ConfigForm({
  fields,
  value,
  disabled,
  submitLabel = "Apply",
  sendAll = false,
  onApply,
  testId,
}: Props) {
  const [draft, setDraft] = useState<Draft>(() => toDraft(fields, value));
  const [error, setError] = useState<string | null>(null);
  const uid = useId();
  const valueKey = JSON.stringify(value);
  // A change from the server (a teammate, or our own action applied) resets the form.
  useEffect(() => setDraft(toDraft(fields, value)), [valueKey]); // deliberately keyed on the value only, not on `fields`

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const changes: Record<string, unknown> = {};
    for (const f of fields) {
      const d = draft[f.key];
      const cur = value[f.key];
      if (f.type === "bool") {
        if (sendAll || d !== (cur === true)) changes[f.key] = d === true;
      } else if (typeof d === "string" && d.trim() !== "") {
        const parsed = f.type === "number" ? Number(d) : d;
        if (f.type === "number" && !Number.isFinite(parsed)) {
          setError(`${f.label}: not a number`);
          return;
        }
        if (sendAll || parsed !== cur) changes[f.key] = parsed;
      }
    }
    setError(null);
    if (Object.keys(changes).length === 0) {
      setError("nothing changed");
      return;
    }
    onApply(changes);
  };

  return (
    <form className="config-form" onSubmit={submit} data-testid={testId}>
      {fields.map((f) => {
        const id = `${uid}-${f.key}`;
        const d = draft[f.key];
        return (
          <div className="field" key={f.key}>
            <label htmlFor={id} title={f.help}>
              {f.label}
              {f.type === "number" && f.unit ? <span className="muted"> ({f.unit})</span> : null}
            </label>
            {f.type === "bool" ? (
              <input
                id={id}
                type="checkbox"
                checked={d === true}
                disabled={disabled}
                onChange={(e) => setDraft({ ...draft, [f.key]: e.target.checked })}
              />
            ) : f.type === "select" ? (
              <select
                id={id}
                value={typeof d === "string" ? d : ""}
                disabled={disabled}
                onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}
              >
                <option value="">(default)</option>
                {f.options.map((o) => (
                  <option key={o} value={o}>
                    {o.replaceAll("_", " ")}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={id}
                type="number"
                inputMode="decimal"
                min={f.min}
                max={f.max}
                step={f.step ?? "any"}
                placeholder="default"
                value={typeof d === "string" ? d : ""}
                disabled={disabled}
                onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}
              />
            )}
          </div>
        );
      })}
      {!disabled && (
        <div className="row">
          <button type="submit" className="small">
            {submitLabel}
          </button>
          {error && <span className="error small">{error}</span>}
        </div>
      )}
    </form>
  );
}
