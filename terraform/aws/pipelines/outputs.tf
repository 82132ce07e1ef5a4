# The output contract shared with terraform/local/pipelines: same names.

output "pipelines" {
  description = "Every rendered pipeline definition, \"<kind>/<name>\" => SHA-256 of the rendered file."
  value       = local.pipelines
}

output "glue_scripts" {
  description = "Every Glue script, file name => SHA-256 of its content."
  value       = { for name, object in aws_s3_object.glue_script : name => filesha256(object.source) }
}

output "state_machine_arns" {
  description = "Step Functions state machine ARNs by pipeline name."
  value       = { for key, machine in aws_sfn_state_machine.pipeline : key => machine.arn }
}

output "glue_job_names" {
  description = "Glue job names by pipeline name."
  value       = { for key, job in aws_glue_job.job : key => job.name }
}
