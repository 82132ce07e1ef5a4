variable "environment" {
  description = "Environment name; injected by toolkit, never set in a var file."
  type        = string
}

# Both folders are injected by toolkit as absolute paths. The defaults let the stack apply (recording
# nothing) in a toolkit that does not inject them yet; terraform/aws/pipelines requires them.
variable "rendered_pipelines_dir" {
  description = "Absolute path of the rendered pipeline definitions (<kind>/<name>.json); injected by toolkit."
  type        = string
  default     = ""
  nullable    = false
}

variable "glue_scripts_dir" {
  description = "Absolute path of the Glue job scripts (*.py); injected by toolkit."
  type        = string
  default     = ""
  nullable    = false
}
