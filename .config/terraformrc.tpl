# The project's Terraform CLI configuration. tools/terraform.sh renders it into .tools/terraform/terraformrc
# (git-ignored) and points TF_CLI_CONFIG_FILE at it; nothing here names a machine path.
#
# @MIRROR_BLOCK@ becomes, when a provider mirror is given (SLEEPWAKE_TF_PROVIDER_MIRROR) or found:
#   filesystem_mirror { path = "<mirror>"  include = ["registry.terraform.io/hashicorp/aws"] }
#   direct { exclude = ["registry.terraform.io/hashicorp/aws"] }
# and otherwise `direct {}`: every provider comes from the registry.
provider_installation {
@MIRROR_BLOCK@
}

# Without a mirror, providers downloaded from the registry are kept once for every module, example and
# environment; @PLUGIN_CACHE@ becomes `plugin_cache_dir = "<repo>/.tools/terraform/plugin-cache"`. With a
# mirror it stays empty: init links the mirror's unpacked provider directly, and a cache in between would only
# copy it (and race between concurrent inits).
@PLUGIN_CACHE@
