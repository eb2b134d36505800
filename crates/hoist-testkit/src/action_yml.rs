//! Keeps an action's `action.yml` and README in step with the binary's
//! [`ActionSpec`]: the same inputs (names, required, defaults), each mapped
//! into `env:`, the same outputs, and a README row for every one.

use std::path::Path;

use hoist_runner::{ActionSpec, InputKind};
use saphyr::{LoadableYamlNode, YamlOwned};

fn text(node: Option<&YamlOwned>) -> Option<String> {
    let node = node?;
    node.as_str()
        .map(String::from)
        .or_else(|| node.as_bool().map(|b| b.to_string()))
        .or_else(|| node.as_integer().map(|i| i.to_string()))
}

/// Panics with every difference between `spec` and the action in `dir`
/// (`action.yml` and `README.md`).
pub fn assert_action_matches_spec(spec: &ActionSpec, dir: &Path) {
    let source = std::fs::read_to_string(dir.join("action.yml")).expect("action.yml");
    let documents = YamlOwned::load_from_str(&source).expect("action.yml parses");
    let action = &documents[0];
    let mut problems = Vec::new();

    let inputs = action
        .as_mapping_get("inputs")
        .and_then(YamlOwned::as_mapping)
        .expect("inputs");
    let names: Vec<String> = inputs
        .keys()
        .filter_map(|k| k.as_str().map(String::from))
        .collect();
    let spec_names: Vec<&str> = spec.inputs.iter().map(|i| i.name).collect();
    if names != spec_names {
        problems.push(format!(
            "inputs differ:\n  action.yml: {names:?}\n  spec:       {spec_names:?}"
        ));
    }
    for input in spec.inputs {
        let Some(declared) = action
            .as_mapping_get("inputs")
            .and_then(|i| i.as_mapping_get(input.name))
        else {
            continue;
        };
        let required = declared
            .as_mapping_get("required")
            .and_then(YamlOwned::as_bool)
            .unwrap_or(false);
        if required != input.required {
            problems.push(format!(
                "`{}`: required is {required} in action.yml, {} in the spec",
                input.name, input.required
            ));
        }
        let default = text(declared.as_mapping_get("default"));
        let spec_default = input
            .default
            .map(String::from)
            .or_else(|| (input.kind == InputKind::Bool).then(|| "false".to_owned()));
        // A boolean without a default reads as false either way.
        let bool_unset =
            input.kind == InputKind::Bool && input.default.is_none() && default.is_none();
        // A default the runner fills in (`${{ github.token }}`) has no
        // counterpart in the binary, which has no such context.
        let expression =
            input.default.is_none() && default.as_deref().is_some_and(|d| d.starts_with("${{"));
        if default != spec_default && !bool_unset && !expression {
            problems.push(format!(
                "`{}`: default is {default:?} in action.yml, {spec_default:?} in the spec",
                input.name
            ));
        }
        let mapping = format!("{}: ${{{{ inputs.{} }}}}", input.env_name(), input.name);
        if !source.contains(&mapping) {
            problems.push(format!(
                "`{}` is not mapped into env: `{mapping}` is missing",
                input.name
            ));
        }
    }

    let outputs = action
        .as_mapping_get("outputs")
        .and_then(YamlOwned::as_mapping)
        .expect("outputs");
    let output_names: Vec<String> = outputs
        .keys()
        .filter_map(|k| k.as_str().map(String::from))
        .collect();
    let spec_outputs: Vec<&str> = spec.outputs.iter().map(|o| o.name).collect();
    if output_names != spec_outputs {
        problems.push(format!(
            "outputs differ:\n  action.yml: {output_names:?}\n  spec:       {spec_outputs:?}"
        ));
    }

    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap_or_default();
    for name in spec_names.iter().chain(&spec_outputs) {
        if !readme.contains(&format!("| `{name}` |")) {
            problems.push(format!("README.md has no table row for `{name}`"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} is out of step with the binary:\n{}",
        dir.display(),
        problems.join("\n")
    );
}

/// One row of a README's inputs or outputs table.
#[derive(Debug, PartialEq, Eq)]
struct Row {
    name: String,
    required: bool,
    default: Option<String>,
    description: String,
}

/// The rows of the first table under the heading `title` (`## Inputs`,
/// `### Outputs`…): either `| name | required | default | description |`
/// or `| name | default | description |` with `**required**` as the
/// default of a required input; outputs are `| name | description |`.
fn readme_table(readme: &str, title: &str) -> Vec<Row> {
    let mut lines = readme
        .lines()
        .skip_while(|line| line.trim_start_matches('#').trim() != title || !line.starts_with('#'))
        .skip(1)
        .skip_while(|line| !line.starts_with('|'));
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let columns = header.trim_matches('|').split('|').count();
    lines
        .skip(1)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<String> = line
                .trim()
                .trim_matches('|')
                .split(" | ")
                .map(|cell| cell.trim().to_owned())
                .collect();
            let cell = |i: usize| cells.get(i).cloned().unwrap_or_default();
            let unquote = |text: String| {
                let text = text.trim_matches('`').to_owned();
                (!text.is_empty()).then_some(text)
            };
            let name = cell(0).trim_matches('`').to_owned();
            match columns {
                4 => Row {
                    name,
                    required: cell(1) == "yes",
                    default: unquote(cell(2)),
                    description: cells[3..].join(" | "),
                },
                3 => {
                    let required = cell(1) == "**required**";
                    Row {
                        name,
                        required,
                        default: if required { None } else { unquote(cell(1)) },
                        description: cells[2..].join(" | "),
                    }
                }
                _ => Row {
                    name,
                    required: false,
                    default: None,
                    description: cells[1..].join(" | "),
                },
            }
        })
        .collect()
}

/// The rows an `action.yml`'s `inputs` or `outputs` mapping should have.
fn declared_rows(action: &YamlOwned, key: &str) -> Vec<Row> {
    let Some(mapping) = action.as_mapping_get(key).and_then(YamlOwned::as_mapping) else {
        return Vec::new();
    };
    mapping
        .iter()
        .filter_map(|(name, declared)| {
            Some(Row {
                name: name.as_str()?.to_owned(),
                required: declared
                    .as_mapping_get("required")
                    .and_then(YamlOwned::as_bool)
                    .unwrap_or(false),
                default: text(declared.as_mapping_get("default")).filter(|d| !d.is_empty()),
                description: text(declared.as_mapping_get("description"))
                    .unwrap_or_default()
                    .trim()
                    .replace('|', "\\|"),
            })
        })
        .collect()
}

/// Panics with every difference between the `action.yml` at `action_yml`
/// and the inputs and outputs tables of `readme` (under the headings
/// `Inputs` and `Outputs`): the same names in the same order, the same
/// required flags, defaults and descriptions.
pub fn assert_readme_matches(action_yml: &Path, readme: &Path) {
    let source = std::fs::read_to_string(action_yml).expect("action.yml");
    let documents = YamlOwned::load_from_str(&source).expect("action.yml parses");
    let readme_text = std::fs::read_to_string(readme).expect("README");
    let mut problems = Vec::new();
    for (key, title) in [("inputs", "Inputs"), ("outputs", "Outputs")] {
        let declared = declared_rows(&documents[0], key);
        let documented = readme_table(&readme_text, title);
        let names = |rows: &[Row]| rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
        if names(&declared) != names(&documented) {
            problems.push(format!(
                "{key} differ:\n  action.yml: {:?}\n  README:     {:?}",
                names(&declared),
                names(&documented)
            ));
            continue;
        }
        for (want, got) in declared.iter().zip(&documented) {
            if key == "outputs" {
                if want.description != got.description {
                    problems.push(format!(
                        "output `{}`: {:?} in action.yml, {:?} in the README",
                        want.name, want.description, got.description
                    ));
                }
            } else if want != got {
                problems.push(format!(
                    "input `{}`:\n  action.yml: {want:?}\n  README:     {got:?}",
                    want.name
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} does not match {}:\n{}",
        readme.display(),
        action_yml.display(),
        problems.join("\n")
    );
}

/// The names and defaults of an `action.yml`'s `inputs` (or `outputs`,
/// whose defaults are `None`), in order.
pub fn declared(action_yml: &Path, key: &str) -> Vec<(String, Option<String>)> {
    let source = std::fs::read_to_string(action_yml).expect("action.yml");
    let documents = YamlOwned::load_from_str(&source).expect("action.yml parses");
    declared_rows(&documents[0], key)
        .into_iter()
        .map(|row| (row.name, row.default))
        .collect()
}
