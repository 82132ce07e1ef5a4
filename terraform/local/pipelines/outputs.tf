# The output contract shared with terraform/aws/pipelines: same names.

output "pipelines" {
  description = "Every rendered pipeline definition, \"<kind>/<name>\" => SHA-256 of the rendered file."
  value       = { for key, resource in terraform_data.pipeline : key => resource.output.sha256 }
}

output "glue_scripts" {
  description = "Every Glue script, file name => SHA-256 of its content."
  value       = { for name, resource in terraform_data.glue_script : name => resource.output }
}

output "state_machine_arns" {
  description = "Step Functions state machine ARNs by pipeline name; none locally (nothing is deployed to AWS)."
  value       = {}
}

output "glue_job_names" {
  description = "Glue job names by pipeline name; none locally (nothing is deployed to AWS)."
  value       = {}
}
