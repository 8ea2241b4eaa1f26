// Screen 4: the exam is over — time up or finished — with the scores.
import type { SessionView } from "./backend";
import { h, replace } from "./dom";
import { f, loc, t, verdictName } from "./i18n";
import { state } from "./state";

export function renderEndScreen(root: HTMLElement, s: SessionView): void {
  const reason = state.endReason ?? (s.remaining_ms <= 0 ? "time_up" : "finished");
  replace(
    root,
    h("main", { class: "screen end", id: "main" },
      h("section", { class: "card end-card", tid: "end-screen", "data-reason": reason, "aria-labelledby": "end-heading" },
        h("h1", { id: "end-heading", tabindex: -1 }, t(reason === "time_up" ? "end_time_up" : "end_finished")),
        reason === "proctor" ? h("p", null, t("end_by_proctor")) : null,
        h("p", { class: "muted" }, loc(s.title), " · ", t("candidate"), ": ", f.candidate(s.candidate_id, s.candidate_name)),
        h("p", null, t("end_intro")),
        h("div", { class: "grid-wrap" },
          h("table", { class: "grid summary", tid: "end-summary" },
            h("thead", null, h("tr", null,
              h("th", { scope: "col" }, t("problem")), h("th", { scope: "col" }, t("h_verdict")), h("th", { scope: "col" }, t("h_score")))),
            h("tbody", null, s.problems.map((p) =>
              h("tr", { "data-problem": p.id },
                h("th", { scope: "row" }, loc(p.title)),
                h("td", null, p.best_verdict
                  ? h("span", { class: `verdict small v-${p.best_verdict}`, "data-verdict": p.best_verdict }, verdictName(p.best_verdict))
                  : h("span", { class: "muted" }, t("st_not_tried"))),
                h("td", { class: "num" }, f.score(p.best_score, p.points))))),
            h("tfoot", null, h("tr", null,
              h("th", { scope: "row", colspan: 2 }, t("total")),
              h("td", { class: "num", tid: "end-total" }, h("strong", null, f.score(s.score, s.max_score))))))))),
  );
}
