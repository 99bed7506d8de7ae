# TFLint configuration for modules/ and environments/ (tflint >= 0.55).
#
#   tflint --init   --config "$PWD/.config/.tflint.hcl"
#   tflint --recursive --config "$PWD/.config/.tflint.hcl"
#
# Pass the config as an absolute path: with --recursive, tflint changes into each module directory.
# The offline checks that do not need plugin downloads are tools/tfcheck.py and tools/tf_fmt.sh.

tflint {
  required_version = ">= 0.55.0"
}

config {
  format = "compact"

  # Evaluate calls of local modules (source = "./..." or "../..."), as tflint >= 0.50 does by default;
  # registry modules are not downloaded. Replaces the removed `module = true`.
  call_module_type = "local"

  force = false
}

# Bundled Terraform language ruleset.
plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "aws" {
  enabled = true
  version = "0.48.0"
  source  = "github.com/terraform-linters/tflint-ruleset-aws"

  # Deep checking calls AWS APIs; never in CI.
  deep_check = false
}

# Beyond the recommended preset: the conventions tools/tfcheck.py also enforces.
rule "terraform_documented_variables" {
  enabled = true
}

rule "terraform_documented_outputs" {
  enabled = true
}

rule "terraform_standard_module_structure" {
  enabled = true
}

rule "terraform_naming_convention" {
  enabled = true
  format  = "snake_case"
}

rule "terraform_comment_syntax" {
  enabled = true
}
