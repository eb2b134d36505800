//! Outputs, the job summary and the dry-run diff.

use hoist_gitops::Outcome;
use hoist_runner::{Outside, Runner};

use crate::{BumpError, Decision, Settings, previous_lines};

/// Sets the outputs and the summary after a landing (or a no-op), and
/// exports the commit and the repository (the input as given) for later
/// steps.
pub(crate) fn outcome(
    runner: &mut Runner,
    settings: &Settings,
    outcome: &Outcome,
    decision: &Decision,
) -> Result<(), BumpError> {
    let (commit, changed, superseded) = match outcome {
        Outcome::Landed { commit, attempts } => {
            runner
                .console()
                .info(&format!("Pushed {commit} after {attempts} attempt(s)."));
            (commit, true, false)
        }
        Outcome::Unchanged { tip } => {
            runner.console().info(&format!(
                "Every target already holds its value; nothing to commit (tip {tip})."
            ));
            (tip, false, false)
        }
        Outcome::Superseded { tip } => {
            for (path, change, by) in &decision.superseded {
                let old = change.old.as_deref().unwrap_or_default();
                let new = change.new.as_deref().unwrap_or_default();
                let warning = match (by, &settings.source) {
                    (Some(by), Some(ours)) => format!(
                        "{path}: {} holds {old}, written by a build of {by}, which contains this build's commit {}; {new} is older, so nothing was written (policy: set `policy: always` to roll back)",
                        change.key, ours.commit
                    ),
                    _ => format!(
                        "{path}: {} holds {old}, newer than {new}; nothing was written (policy: set `policy: always` to roll back)",
                        change.key
                    ),
                };
                runner.console().warning(&warning);
            }
            (tip, false, true)
        }
    };
    let files = if changed {
        decision
            .files
            .iter()
            .map(|f| f.path.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        String::new()
    };
    runner.set_output("commit-sha", commit)?;
    runner.set_output("changed", if changed { "true" } else { "false" })?;
    runner.set_output("files", &files)?;
    runner.set_output(
        "previous",
        &if changed {
            previous_lines(decision.changes())
        } else {
            String::new()
        },
    )?;
    runner.set_output("superseded", if superseded { "true" } else { "false" })?;
    runner.export_env("HOIST_GITOPS_COMMIT", commit)?;
    runner.export_env("HOIST_GITOPS_REPOSITORY", &settings.repository_input)?;
    runner.summary(&summary(outcome, decision))?;
    Ok(())
}

/// Prints the unified diff of what would be committed; pushes nothing.
pub(crate) fn dry_run(
    runner: &mut Runner,
    tip: &str,
    decision: &Decision,
) -> Result<(), BumpError> {
    let mut diff = String::new();
    for file in &decision.files {
        let path = file.path.as_str();
        let unified = similar::TextDiff::from_lines(&file.before, &file.after)
            .unified_diff()
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string();
        diff.push_str(&unified);
    }
    if diff.is_empty() {
        runner
            .console()
            .info("Dry run: every target already holds its value; nothing would be committed.");
    } else {
        runner
            .console()
            .group("Dry run: the diff that would be committed", |console| {
                // The diff is the GitOps files' own text: anyone who can
                // commit there wrote it.
                console.outside(Outside::new(diff.trim_end()))
            });
    }
    runner.set_output("commit-sha", tip)?;
    runner.set_output(
        "changed",
        if decision.files.is_empty() {
            "false"
        } else {
            "true"
        },
    )?;
    runner.set_output(
        "files",
        &decision
            .files
            .iter()
            .map(|f| f.path.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    )?;
    runner.set_output("previous", &previous_lines(decision.changes()))?;
    runner.set_output(
        "superseded",
        if decision.superseded.is_empty() {
            "false"
        } else {
            "true"
        },
    )?;
    Ok(())
}

fn summary(outcome: &Outcome, decision: &Decision) -> String {
    let mut text = String::from("### bump-manifest\n\n");
    match outcome {
        Outcome::Landed { commit, .. } => text.push_str(&format!("Committed `{commit}`.\n\n")),
        Outcome::Unchanged { .. } => {
            text.push_str("Every target already held its value: no commit.\n\n")
        }
        Outcome::Superseded { .. } => {
            text.push_str("The branch holds a newer version: nothing was written.\n\n")
        }
    }
    let rows: Vec<_> = match outcome {
        Outcome::Superseded { .. } => decision.superseded.iter().map(|(p, c, _)| (p, c)).collect(),
        _ => decision.changes().collect(),
    };
    if !rows.is_empty() {
        text.push_str("| File | Key | Old | New |\n| --- | --- | --- | --- |\n");
        for (path, change) in rows {
            let cell = |v: &Option<String>| {
                v.as_deref()
                    .map_or("—".to_owned(), |v| format!("`{}`", v.replace('|', "\\|")))
            };
            text.push_str(&format!(
                "| `{path}` | `{}` | {} | {} |\n",
                change.key.replace('|', "\\|"),
                cell(&change.old),
                cell(&change.new)
            ));
        }
    }
    text
}
