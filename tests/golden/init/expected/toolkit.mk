# toolkit's targets; add `include toolkit.mk` to your Makefile. CI jobs call `toolkit` directly: make turns
# every failure into its own exit code 2, which toolkit keeps for "changes pending" (README, "Exit codes").
ENV ?= local
TOOLKIT ?= toolkit

.PHONY: env plan destroy status
env:
	$(TOOLKIT) env up $(ENV)
plan:
	$(TOOLKIT) plan $(ENV)
destroy:
	$(TOOLKIT) env down $(ENV)
status:
	$(TOOLKIT) env status $(ENV)
