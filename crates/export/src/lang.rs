//! The two languages results are written in, and the words they use.

use serde::{Deserialize, Serialize};
use sqlexam_core::grade::Verdict;

/// English or Japanese.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ja,
}

impl Lang {
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, en: &'a str, ja: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Ja => ja,
        }
    }

    /// A verdict's name, as the app shows it.
    pub fn verdict(self, v: Verdict) -> &'static str {
        match v {
            Verdict::Accepted => self.pick("Accepted", "正解"),
            Verdict::WrongAnswer => self.pick("Wrong Answer", "不正解"),
            Verdict::RuntimeError => self.pick("Runtime Error", "実行時エラー"),
            Verdict::TimeLimitExceeded => self.pick("Time Limit Exceeded", "時間制限超過"),
            Verdict::OutputLimitExceeded => self.pick("Output Limit Exceeded", "出力制限超過"),
            Verdict::Forbidden => self.pick("Forbidden", "禁止された操作"),
        }
    }

    /// An incident kind's name ([`crate::results::Incident`]); an unknown code as itself.
    pub fn incident(self, kind: &str) -> String {
        let (en, ja) = match kind {
            "interrupted" => ("Interrupted", "中断"),
            "reopened" => ("Reopened (clock kept running)", "再開(時計は進行)"),
            "resumed" => ("Resumed by the proctor", "試験監督が再開"),
            "extended" => ("Time extended", "時間延長"),
            "ended_by_proctor" => ("Ended by the proctor", "試験監督が終了"),
            "refused" => ("Submission refused", "提出を拒否"),
            "fork" => (
                "Fork: two different records at one place",
                "分岐: 同じ位置に異なる記録",
            ),
            "rollback" => (
                "Rollback: the device went back",
                "巻き戻し: 端末の記録が後退",
            ),
            "gap" => ("Gap: records missing", "欠落: 記録が不足"),
            "disagreement" => ("Server's verdict differs", "サーバーの判定と不一致"),
            "ungradable" => ("Server could not re-grade", "サーバーで再採点できない"),
            "proctor_unproven" => ("Proctor action not proven", "試験監督の操作を証明できない"),
            "wrong_pack" => ("Ran on another pack", "別のパックで実施"),
            "log_contradiction" => ("Receipt contradicts the log", "受領証がログと矛盾"),
            other => return other.to_owned(),
        };
        self.pick(en, ja).to_owned()
    }
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
