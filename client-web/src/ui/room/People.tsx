// Who is in the room (role, connected or not) and the room's chat. Invariant: chat lines are
// sent through the controller, which trims them to the server's bound.
import { useEffect, useRef, useState, type FormEvent } from "react";
import type { ChatLine, Member } from "../../protocol/generated";
import { MAX_CHAT_CHARS } from "../../protocol/generated";
import { useController } from "../hooks";

export function People({ members, chat, me }: { members: Member[]; chat: ChatLine[]; me: string | undefined }) {
  const controller = useController();
  const [text, setText] = useState("");
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    list.current?.scrollTo?.({ top: list.current.scrollHeight });
  }, [chat.length]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (controller.chat(text)) setText("");
  };
  return (
    <section className="people panel" aria-label="People and chat">
      <h2>In the room</h2>
      <ul className="members" data-testid="members">
        {members.map((m) => (
          <li key={m.player} className={m.connected ? "" : "muted"}>
            <span
              className={`dot ${m.connected ? "on" : "off"}`}
              aria-label={m.connected ? "connected" : "disconnected"}
            />
            {m.name}
            {m.player === me ? " (you)" : ""} <span className="tag">{m.role}</span>
          </li>
        ))}
      </ul>
      <ol className="chat" ref={list} aria-live="polite" aria-label="Chat">
        {chat.map((l, i) => (
          <li key={i}>
            <strong>{l.name}:</strong> {l.text}
          </li>
        ))}
      </ol>
      <form className="row" onSubmit={submit}>
        <label htmlFor="chat-input" className="sr-only">
          Message
        </label>
        <input
          id="chat-input"
          value={text}
          maxLength={MAX_CHAT_CHARS}
          placeholder="Say something"
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="small">
          Send
        </button>
      </form>
    </section>
  );
}
