"""Mermaid output for state machines and Glue workflows."""

from __future__ import annotations

import pytest

from toolkit.errors import UsageError
from toolkit.pipelines.graph import mermaid


def test_state_machine_diagram_has_states_edges_choices_catches_and_nested_scopes():
    definition = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Work"}],
                "Default": "Done",
            },
            "Work": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}],
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    assert mermaid("asl", definition).splitlines() == [
        "stateDiagram-v2",
        '  state "Check (Choice)" as s1',
        '  state "Work (Parallel)" as s2',
        "  state s2 {",
        '    state "A (Pass)" as s3',
        "    [*] --> s3",
        "    s3 --> [*]",
        "    --",
        '    state "B (Pass)" as s4',
        "    [*] --> s4",
        "    s4 --> [*]",
        "  }",
        '  state "Done (Succeed)" as s5',
        "  [*] --> s1",
        "  s1 --> s2: $.n NumericGreaterThan 0",
        "  s1 --> s5: default",
        "  s2 --> s5",
        "  s2 --> s5: catch States.ALL",
        "  s5 --> [*]",
    ]


def test_glue_workflow_diagram_links_triggers_jobs_and_crawlers():
    workflow = {
        "Workflow": {"Name": "w"},
        "Triggers": [
            {"Name": "start", "Type": "ON_DEMAND", "Actions": [{"CrawlerName": "c"}]},
            {
                "Name": "then",
                "Type": "CONDITIONAL",
                "Predicate": {"Conditions": [{"CrawlerName": "c", "CrawlState": "SUCCEEDED"}]},
                "Actions": [{"JobName": "j"}],
            },
        ],
    }
    text = mermaid("glue-workflow", workflow)
    assert text.startswith("flowchart LR\n")
    assert '  s2[("crawler: c")]' in text and "  s2 -->|SUCCEEDED| s3" in text and "  s3 --> s4" in text
    assert text.count("crawler: c") == 1


def test_other_kinds_have_no_graph():
    with pytest.raises(UsageError):
        mermaid("firehose", {})
