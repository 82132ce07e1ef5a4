"""The AWS Data Pipeline object reference (Developer Guide, "Pipeline Object Reference"): each object type,
its fields and the ones it requires, `scheduleType` values and the `period` syntax, so a definition is
checked as the service would check it, with a did-you-mean for a misspelt type or field.

Fields are inherited (from `parent` objects and from `Default`), so required fields are looked for along
that chain, and an object without a type (Default, a parent) may carry any field of any type. Names
starting with `my` are user-defined fields, `@` marks runtime and system fields, `*` a field whose value
is hidden (`*password`): none of these is checked against the reference.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

# What every object may have, and what everything that runs on a schedule (data nodes, activities,
# resources, preconditions) shares, including the runtime fields an exported definition can carry.
_ANY = {"id", "name", "type", "parent"}
_RUNNABLE = {
    "attemptStatus", "attemptTimeout", "dependsOn", "failureAndRerunMode", "lateAfterTimeout",
    "maxActiveInstances", "maximumRetries", "onFail", "onLateAction", "onSuccess", "pipelineLogUri",
    "precondition", "reportProgressTimeout", "retryDelay", "runsOn", "schedule", "scheduleType", "workerGroup",
    "cancellationReason", "emrStepLog", "errorId", "errorMessage", "errorStackTrace", "hadoopJobLog",
    "hostname", "reportProgressTime",
}  # fmt: skip
_ACTIVITY = _RUNNABLE | {"input", "output"}
_EMR_ACTIVITY = _ACTIVITY | {
    "postActivityTaskConfig", "preActivityTaskConfig", "resizeClusterBeforeRunning", "resizeClusterMaxInstances",
}  # fmt: skip
_RESOURCE = _RUNNABLE | {
    "actionOnResourceFailure", "actionOnTaskFailure", "availabilityZone", "httpProxy", "initTimeout", "keyPair",
    "region", "resourceRole", "role", "subnetId", "terminateAfter", "useOnDemandOnLastAttempt",
}  # fmt: skip
_PRECONDITION = _RUNNABLE | {"preconditionTimeout", "role", "node", "currentRetryCount", "lastRetryTime"}
_SQL_NODE = {"createTableSql", "database", "insertQuery", "schemaName", "selectQuery", "table"}

# type -> (fields, required fields, groups of which one is required)
OBJECTS: dict[str, tuple[frozenset[str], tuple[str, ...], tuple[tuple[str, ...], ...]]] = {}


def _object(name: str, fields: set[str], required: tuple[str, ...] = (), groups: tuple[tuple[str, ...], ...] = ()):
    OBJECTS[name] = (frozenset(fields | _ANY | set(required) | {f for g in groups for f in g}), required, groups)


_RUN_ON = ("runsOn", "workerGroup")
# Data nodes
_object("S3DataNode", _RUNNABLE | {"compression", "dataFormat", "directoryPath", "filePath", "manifestFilePath",
                                  "s3EncryptionType"})  # fmt: skip
_object("SqlDataNode", _RUNNABLE | _SQL_NODE, ("table",))
_object("MySqlDataNode", _RUNNABLE | _SQL_NODE | {"connectionString", "username", "password"}, ("table",))
_object("DynamoDBDataNode", _RUNNABLE | {"dataFormat", "readThroughputPercent", "region", "writeThroughputPercent"},
        ("tableName",))  # fmt: skip
_object("RedshiftDataNode", _RUNNABLE | {"createTableSql", "primaryKeys", "schemaName"}, ("database", "tableName"))
# Activities
_object("CopyActivity", _ACTIVITY, groups=(_RUN_ON,))
_object("ShellCommandActivity", _ACTIVITY | {"scriptArgument", "stage", "stderr", "stdout"},
        groups=(("command", "scriptUri"), _RUN_ON))  # fmt: skip
_object("EmrActivity", _EMR_ACTIVITY - {"postActivityTaskConfig", "preActivityTaskConfig"}
        | {"postStepCommand", "preStepCommand", "step"}, groups=(_RUN_ON,))  # fmt: skip
_object("HadoopActivity", _EMR_ACTIVITY | {"argument", "hadoopQueue", "mainClass"}, ("jarUri",), (_RUN_ON,))
_object("HiveActivity", _EMR_ACTIVITY | {"hadoopQueue", "scriptVariable", "stage", "generatedScriptsPath"},
        groups=(("hiveScript", "scriptUri"), _RUN_ON))  # fmt: skip
_object("HiveCopyActivity", _EMR_ACTIVITY | {"filterSql"}, groups=(_RUN_ON,))
_object("PigActivity", _EMR_ACTIVITY | {"scriptVariable", "stage", "generatedScriptsPath"},
        groups=(("script", "scriptUri"), _RUN_ON))  # fmt: skip
_object("RedshiftCopyActivity", _ACTIVITY | {"commandOptions", "queue", "transformSql"}, ("insertMode",),
        (_RUN_ON,))  # fmt: skip
_object("SqlActivity", _ACTIVITY | {"queue", "scriptArgument"}, ("database",), (("script", "scriptUri"), _RUN_ON))
# Resources
_object("Ec2Resource", _RESOURCE | {"associatePublicIpAddress", "imageId", "instanceCount", "instanceType",
                                   "minInstanceCount", "runAsUser", "securityGroupIds", "securityGroups",
                                   "spotBidPrice", "logUri"}, ("resourceRole", "role"))  # fmt: skip
_object("EmrCluster", _RESOURCE | {
    "additionalMasterSecurityGroupIds", "additionalSlaveSecurityGroupIds", "amiVersion", "applications",
    "bootstrapAction", "configuration", "coreInstanceBidPrice", "coreInstanceCount", "coreInstanceType",
    "emrManagedMasterSecurityGroupId", "emrManagedSlaveSecurityGroupId", "enableDebugging", "hadoopSchedulerType",
    "masterInstanceBidPrice", "masterInstanceType", "releaseLabel", "serviceAccessSecurityGroupId",
    "supportedProducts", "taskInstanceBidPrice", "taskInstanceCount", "taskInstanceType", "maxActiveInstances",
    "emrLogUri", "installHive", "logUri",  # older releases of the guide; AWS's own samples still use them
})  # fmt: skip
_object("HttpProxy", {"hostname", "port", "password", "s3NoProxy", "username", "windowsDomain", "windowsWorkgroup"})
# Preconditions
_object("DynamoDBDataExists", _PRECONDITION, ("role", "tableName"))
_object("DynamoDBTableExists", _PRECONDITION, ("role", "tableName"))
_object("Exists", _PRECONDITION)
_object("S3KeyExists", _PRECONDITION, ("role", "s3Key"))
_object("S3PrefixNotEmpty", _PRECONDITION, ("role", "s3Prefix"))
_object("ShellCommandPrecondition", _PRECONDITION | {"scriptArgument", "stderr", "stdout"},
        groups=(("command", "scriptUri"),))  # fmt: skip
# Databases
_object("JdbcDatabase", {"databaseName", "jdbcDriverJarUri", "jdbcProperties"},
        ("connectionString", "jdbcDriverClass", "password", "username"))  # fmt: skip
_object("RdsDatabase", {"databaseName", "jdbcDriverJarUri", "jdbcProperties", "region"},
        ("password", "rdsInstanceId", "username"))  # fmt: skip
_object("RedshiftDatabase", {"databaseName", "jdbcProperties", "region"}, ("password", "username"),
        (("clusterId", "connectionString"),))  # fmt: skip
# Data formats
_object("CSV", {"column", "escapeChar"})
_object("Custom", {"column", "recordSeparator"}, ("columnSeparator",))
_object("DynamoDBDataFormat", {"column"})
_object("DynamoDBExportDataFormat", {"column"})
_object("RegEx", {"column", "inputRegEx", "outputFormat"})
_object("TSV", {"column", "columnSeparator", "escapeChar", "recordSeparator"})
# Actions, schedule, utilities
_object("SnsAlarm", set(), ("message", "role", "subject", "topicArn"))
_object("Terminate", set())
_object("Schedule", {"endDateTime", "occurrences"}, ("period",), (("startAt", "startDateTime"),))
_object("ShellScriptConfig", {"scriptArgument", "scriptUri"})
_object("EmrConfiguration", {"configuration", "property"}, ("classification",))
_object("Property", set(), ("key", "value"))

ALL_FIELDS = frozenset().union(*(fields for fields, _, _ in OBJECTS.values()))
SCHEDULE_TYPES = ("cron", "ondemand", "timeseries")
# "N units": Schedule's period and every Period field (attemptTimeout, terminateAfter, ...)
PERIOD = re.compile(r"\d+\s*(minute|hour|day|week|month|year)s?", re.IGNORECASE)
PERIOD_FIELDS = frozenset({
    "period", "attemptTimeout", "lateAfterTimeout", "reportProgressTimeout", "retryDelay", "terminateAfter",
    "initTimeout", "preconditionTimeout",
})  # fmt: skip
_SPECIAL_PERIODS = {"ONDEMAND_PERIOD"}


def is_period(value: str) -> bool:
    return bool(PERIOD.fullmatch(value.strip())) or value in _SPECIAL_PERIODS


def field_name(key: str) -> str | None:
    """The reference name of a key, or None when the reference does not cover it (`my…`, `@…`)."""
    name = key.removeprefix("*")
    if name.startswith(("my", "@")):
        return None
    return name


def nearest(name: str, choices) -> str | None:
    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.75)
    return close[0] if close else None


def did_you_mean(name: str, choices) -> str:
    close = nearest(name, choices)
    return f"; did you mean {close!r}?" if close else ""


def is_expression(value: Any) -> bool:
    """A value the service computes (`#{…}`) or toolkit fills (`@@{…}`): its text is not the value."""
    return isinstance(value, str) and ("#{" in value or "@@{" in value)
