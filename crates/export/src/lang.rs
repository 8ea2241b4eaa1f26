//! The words results are written in, from the one catalogue (sqlexam-i18n).

use sqlexam_core::grade::Verdict;

pub use sqlexam_i18n::Lang;
use sqlexam_i18n::k;

/// A verdict's name, as the app shows it.
pub fn verdict(lang: Lang, v: Verdict) -> &'static str {
    lang.text(match v {
        Verdict::Accepted => k::VERDICT__ACCEPTED,
        Verdict::WrongAnswer => k::VERDICT__WRONG_ANSWER,
        Verdict::RuntimeError => k::VERDICT__RUNTIME_ERROR,
        Verdict::TimeLimitExceeded => k::VERDICT__TIME_LIMIT_EXCEEDED,
        Verdict::OutputLimitExceeded => k::VERDICT__OUTPUT_LIMIT_EXCEEDED,
        Verdict::Forbidden => k::VERDICT__FORBIDDEN,
    })
}

/// An incident kind's name ([`crate::results::Incident`]); an unknown code as itself.
pub fn incident(lang: Lang, kind: &str) -> String {
    let key = match kind {
        "interrupted" => k::INCIDENT__INTERRUPTED,
        "reopened" => k::INCIDENT__REOPENED,
        "resumed" => k::INCIDENT__RESUMED,
        "extended" => k::INCIDENT__EXTENDED,
        "ended_by_proctor" => k::INCIDENT__ENDED_BY_PROCTOR,
        "refused" => k::INCIDENT__REFUSED,
        "fork" => k::INCIDENT__FORK,
        "rollback" => k::INCIDENT__ROLLBACK,
        "gap" => k::INCIDENT__GAP,
        "disagreement" => k::INCIDENT__DISAGREEMENT,
        "ungradable" => k::INCIDENT__UNGRADABLE,
        "proctor_unproven" => k::INCIDENT__PROCTOR_UNPROVEN,
        "wrong_pack" => k::INCIDENT__WRONG_PACK,
        "log_contradiction" => k::INCIDENT__LOG_CONTRADICTION,
        "second_session" => k::INCIDENT__SECOND_SESSION,
        "unadmitted" => k::INCIDENT__UNADMITTED,
        "not_on_roster" => k::INCIDENT__NOT_ON_ROSTER,
        "over_duration" => k::INCIDENT__OVER_DURATION,
        "organizer_counted" => k::INCIDENT__ORGANIZER_COUNTED,
        "organizer_excluded" => k::INCIDENT__ORGANIZER_EXCLUDED,
        other => return other.to_owned(),
    };
    lang.text(key).to_owned()
}

/// Why a session is withheld ([`crate::results::Withheld`]); an unknown code as itself.
pub fn withheld_reason(lang: Lang, reason: &str) -> String {
    let key = match reason {
        "unadmitted" => k::WITHHELD__UNADMITTED,
        "not_on_roster" => k::WITHHELD__NOT_ON_ROSTER,
        "second_session" => k::WITHHELD__SECOND_SESSION,
        "over_duration" => k::WITHHELD__OVER_DURATION,
        "wrong_pack" => k::WITHHELD__WRONG_PACK,
        "rollback" => k::WITHHELD__ROLLBACK,
        "fork" => k::WITHHELD__FORK,
        "proctor_unproven" => k::WITHHELD__PROCTOR_UNPROVEN,
        "excluded_by_organizer" => k::WITHHELD__EXCLUDED_BY_ORGANIZER,
        other => return other.to_owned(),
    };
    lang.text(key).to_owned()
}

/// A candidate's withheld sessions as one cell: `session: reason, reason; …`.
pub fn withheld(lang: Lang, c: &crate::results::CandidateResult) -> String {
    c.withheld
        .iter()
        .map(|w| {
            let reasons: Vec<String> = w.reasons.iter().map(|r| withheld_reason(lang, r)).collect();
            format!("{}: {}", w.session, reasons.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Exam time as `h:mm:ss` (what a proctor reads on the clock).
pub fn exam_time(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exam_time_reads_like_a_clock() {
        assert_eq!(exam_time(0), "0:00:00");
        assert_eq!(exam_time(61_999), "0:01:01");
        assert_eq!(exam_time(3_600_000 * 2 + 5_000), "2:00:05");
    }
}
