"""Driving Terraform: choosing an engine, building argv, running stacks, reading outputs."""
