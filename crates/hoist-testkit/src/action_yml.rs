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
