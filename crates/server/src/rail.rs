//! `realname rail import` and `realname rail status` (CONTRACT 10), for operators of the ISO
//! 20022 rail.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use realname_core::ports::RailReport;

use crate::config::{Config, Rail};
use crate::{App, StartError, open_store};

#[derive(Debug, thiserror::Error)]
pub enum RailCliError {
    #[error(transparent)]
    Start(#[from] StartError),
    /// The command or its file is wrong: exit code 2.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

/// Hands `file` to the inbox (written whole under its own name) and applies what the inbox
/// holds now; answers the name it was given and how many messages were applied.
pub async fn import(config: &Config, file: &Path) -> Result<(String, usize), RailCliError> {
    if config.rail != Rail::Iso20022 {
        return Err(RailCliError::Usage(
            "rail import needs rail = \"iso20022\"".into(),
        ));
    }
    let bytes =
        std::fs::read(file).map_err(|e| RailCliError::Usage(format!("{}: {e}", file.display())))?;
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.starts_with('.'))
        .ok_or_else(|| {
            RailCliError::Usage(format!(
                "{}: not a file name the inbox takes",
                file.display()
            ))
        })?
        .to_owned();
    let parts = App::parts(config).await?;
    let inbox = config
        .iso20022
        .as_ref()
        .map(|s| s.inbox_dir.clone())
        .unwrap_or_default();
    let target = name.clone();
    tokio::task::spawn_blocking(move || {
        realname_rails::iso20022::folders::write_whole(&inbox, &target, |out| {
            std::io::Write::write_all(out, &bytes)
        })
    })
    .await
    .map_err(|e| RailCliError::Failed(e.to_string()))?
    .map_err(|e| RailCliError::Failed(format!("cannot write into the inbox: {e}")))?;
    let service = realname_app::Service::new(parts)
        .await
        .map_err(|e| RailCliError::Failed(format!("store: {}", e.code)))?;
    let applied = realname_app::workers::apply_bank_messages(&service)
        .await
        .map_err(|e| RailCliError::Failed(e.to_string()))?;
    Ok((name, applied))
}

/// The rail's state as `realname rail status` prints it.
pub async fn status(config: &Config) -> Result<String, RailCliError> {
    let opened = open_store(config).await?;
    let report = opened
        .transfers
        .rail_report()
        .await
        .map_err(|e| RailCliError::Failed(e.to_string()))?;
    Ok(status_text(&report, Utc::now(), config.overdue_after))
}

fn ago(d: TimeDelta) -> String {
    let minutes = d.num_minutes().max(0);
    if minutes >= 60 * 48 {
        format!("{}d", minutes / (60 * 24))
    } else if minutes >= 60 {
        format!("{}h{:02}m", minutes / 60, minutes % 60)
    } else {
        format!("{minutes}m")
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Files sent and awaiting a report (those past `overdue_after` called out), payouts by
/// state, payouts waiting to go again and why, and unmatched entries.
pub fn status_text(report: &RailReport, now: DateTime<Utc>, overdue_after: TimeDelta) -> String {
    let mut out = String::new();
    let overdue = report
        .awaiting_report
        .iter()
        .filter(|f| now - f.written_at > overdue_after)
        .count();
    let _ = writeln!(
        out,
        "files awaiting a report: {} ({overdue} overdue: no report after {})",
        report.awaiting_report.len(),
        ago(overdue_after)
    );
    for f in &report.awaiting_report {
        let late = if now - f.written_at > overdue_after {
            "  OVERDUE: ask the bank"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  pain001-{}.xml\t{} transfers\tsent {} ({} ago){late}",
            f.msg_id,
            f.transfers,
            time(f.written_at),
            ago(now - f.written_at)
        );
    }
    let _ = writeln!(
        out,
        "payouts: {} settled, {} returned, {} pending ({} in files sent, {} to send)",
        report.settled,
        report.returned,
        report.sent + report.held,
        report.sent,
        report.held
    );
    let _ = writeln!(
        out,
        "waiting to be sent again (refused, not the user's fault): {}",
        report.waiting_to_resend.len()
    );
    for w in &report.waiting_to_resend {
        let _ = writeln!(
            out,
            "  {}\t{}\tagain from {}\tsent {} time(s)",
            w.end_to_end_id,
            w.reason,
            time(w.due_at),
            w.sends
        );
    }
    let _ = writeln!(out, "unmatched entries: {}", report.unmatched.len());
    for u in &report.unmatched {
        let message = u
            .message
            .as_ref()
            .map_or_else(String::new, |k| format!("{} {}", k.kind, k.msg_id));
        let _ = writeln!(
            out,
            "  {}\t{}\t{}\t{}\t{}",
            time(u.at),
            message,
            realname_rails::iso20022::folders::original_name(&u.source),
            u.reference.as_deref().unwrap_or("-"),
            u.what
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use realname_core::ports::{SentFile, WaitingTransfer};

    #[test]
    fn files_past_their_time_are_called_out() {
        let now = Utc::now();
        let report = RailReport {
            awaiting_report: vec![
                SentFile {
                    msg_id: "RNOLD".into(),
                    transfers: 3,
                    written_at: now - TimeDelta::hours(3),
                },
                SentFile {
                    msg_id: "RNNEW".into(),
                    transfers: 1,
                    written_at: now - TimeDelta::minutes(5),
                },
            ],
            held: 1,
            sent: 4,
            settled: 7,
            returned: 2,
            waiting_to_resend: vec![WaitingTransfer {
                end_to_end_id: "RNX".into(),
                reason: "AM04".into(),
                due_at: now,
                sends: 1,
            }],
            unmatched: Vec::new(),
        };
        let text = status_text(&report, now, TimeDelta::hours(2));
        assert!(
            text.contains("files awaiting a report: 2 (1 overdue"),
            "{text}"
        );
        let old = text
            .lines()
            .find(|l| l.contains("RNOLD"))
            .unwrap_or_default();
        assert!(old.contains("OVERDUE"), "{text}");
        let new = text
            .lines()
            .find(|l| l.contains("RNNEW"))
            .unwrap_or_default();
        assert!(!new.contains("OVERDUE"), "{text}");
        assert!(text.contains("7 settled, 2 returned, 5 pending"), "{text}");
        assert!(text.contains("RNX\tAM04"), "{text}");
    }
}
