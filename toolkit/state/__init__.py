"""Records kept beside Terraform state (lifecycle of ephemeral environments, deployment records) on one
typed store."""
