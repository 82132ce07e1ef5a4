"""The AWS emulator toolkit starts for `--emulator`: a moto server on a loopback port, in its own process,
with the answers moto lacks for calls the shipped AWS stacks make (each patch below says why it exists).

moto keeps everything in memory: when this process stops (`toolkit emulator stop`, a reboot), every
emulated resource and the state bucket go with it.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable

from toolkit.support.log import get_logger

log = get_logger(__name__)

# A definition's problems as Step Functions would list them ("" when valid); toolkit's own ASL checks.
DefinitionCheck = Callable[[str], list[str]]


def patch_moto(check_definition: DefinitionCheck) -> None:
    """Teach moto the calls it does not implement but the AWS provider makes. Idempotent."""
    from moto.glue.models import GlueBackend
    from moto.glue.responses import GlueResponse
    from moto.s3.models import FakeBucket
    from moto.stepfunctions.responses import StepFunctionResponse

    def validate_state_machine_definition(self) -> str:
        # The provider calls ValidateStateMachineDefinition while planning an aws_sfn_state_machine;
        # moto answers 500, which the provider retries for ever. Answer with toolkit's own ASL checks.
        definition = self._get_param("definition") or ""
        problems = check_definition(definition)
        diagnostics = [{"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": p} for p in problems]
        return json.dumps({"result": "FAIL" if problems else "OK", "diagnostics": diagnostics, "truncated": False})

    def list_state_machine_versions(self) -> str:
        # The provider lists a state machine's versions after creating or reading one; moto 5 lacks the
        # call (500). Answer from the versions moto keeps for a machine published with `publish`.
        machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
        versions = [
            {"stateMachineVersionArn": v.arn, "creationDate": _epoch(v.creation_date)}
            for _, v in sorted(getattr(machine, "versions", {}).items(), reverse=True)
        ]
        return json.dumps({"stateMachineVersions": versions})

    def delete_connection(self) -> str:
        # DeleteConnection is not implemented in moto 5 (500, retried until the provider's delete times
        # out); the provider then waits for GetConnection to say EntityNotFoundException, as moto does
        # once the connection is gone from the backend.
        name = self._get_param("ConnectionName")
        self.glue_backend.delete_connection(name)
        return "{}"

    def backend_delete_connection(self, name: str) -> None:
        from moto.glue.exceptions import EntityNotFoundException

        if name not in self.connections:
            raise EntityNotFoundException(f"Connection {name} not found")
        del self.connections[name]

    def bucket_permission(self, action: str, resource: str):
        # moto ignores a Bool condition, and takes a statement whose condition does not hold for a
        # Deny, so the stacks' DenyInsecureTransport statement (aws:SecureTransport = false) refuses
        # every object write. The emulator speaks plain HTTP on loopback where AWS is reached over
        # TLS: requests count as TLS ones, so that statement does not apply, as on AWS.
        from moto.iam.access_control import IAMPolicy, PermissionResult

        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy.decode())
        statements = policy.get("Statement", [])
        statements = [statements] if isinstance(statements, dict) else statements
        policy["Statement"] = [st for st in statements if _applies_over_tls(st)]
        if not policy["Statement"]:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    FakeBucket.get_permission = bucket_permission
    _patch_glue()
    _patch_read_back()
    _patch_rds()
    StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition
    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions
    GlueResponse.delete_connection = delete_connection
    GlueBackend.delete_connection = backend_delete_connection


def _patch_glue() -> None:
    """Glue as the provider reads it back, so that a second apply has nothing to do."""
    from moto.glue.models import FakeConnection, FakeJob
    from moto.glue.responses import GlueResponse

    if getattr(FakeJob, "_toolkit_patched", False):
        return
    connection_as_dict, job_init, job_as_dict = FakeConnection.as_dict, FakeJob.__init__, FakeJob.as_dict

    def connection_dict(self, hide_password: bool = False):
        # moto nests the request under "Connection" and leaves out the top-level ConnectionType
        # GetConnection returns: the provider would plan to set connection_type on every run.
        return {
            "ConnectionType": self.connection_input.get("ConnectionType"),
            **connection_as_dict(self, hide_password),
        }

    def init(self, *args, **kwargs):
        job_init(self, *args, **kwargs)
        given = inspect.signature(job_init).bind(self, *args, **kwargs).arguments.get("execution_class")
        self._toolkit_execution_class_given = bool(given)

    def job_dict(self):
        # moto reports ExecutionClass STANDARD for a job created without one, which AWS leaves out for
        # these jobs: the provider would plan to remove it on every run.
        found = job_as_dict(self)
        if not getattr(self, "_toolkit_execution_class_given", True):
            found.pop("ExecutionClass", None)
        return found

    def update_connection(self) -> str:
        # UpdateConnection is not implemented in moto 5 (500): replace the stored request, as Glue does.
        name, new = self._get_param("Name"), self._get_param("ConnectionInput")
        connection = self.glue_backend.get_connection(
            catalog_id=None, name=name, apply_override_for_compute_environment=None
        )
        connection.connection_input = {**new, "Name": name}
        connection.description = new.get("Description")
        connection.connection_properties = new.get("ConnectionProperties", {})
        return "{}"

    FakeConnection.as_dict = connection_dict
    FakeJob.__init__, FakeJob.as_dict, FakeJob._toolkit_patched = init, job_dict, True
    GlueResponse.update_connection = update_connection


def _patch_read_back() -> None:
    """Kinesis and EC2 as the provider reads them back, so that a second apply has nothing to do."""
    from moto.ec2.models.security_groups import SecurityGroupRule
    from moto.kinesis.responses import KinesisResponse

    if getattr(SecurityGroupRule, "_toolkit_patched", False):
        return
    create_stream, rule_init = KinesisResponse.create_stream, SecurityGroupRule.__init__

    def create_stream_with_tags(self):
        # moto drops CreateStream's Tags: the provider (default_tags) would add them on every run.
        result = create_stream(self)
        tags = self._get_param("Tags")
        if tags:
            self.kinesis_backend.add_tags_to_stream(None, self._get_param("StreamName"), tags)
        return result

    def init(self, *args, **kwargs):
        rule_init(self, *args, **kwargs)
        prefix = inspect.signature(rule_init).bind(self, *args, **kwargs).arguments.get("prefix_list_id")
        self._toolkit_prefix_description = (prefix or {}).get("Description")

    def description(self):
        # moto reads a rule's description from a CIDR range only: a rule that references a security
        # group or a prefix list loses its own, and the provider would set it on every run.
        return (
            self.ip_range.get("Description")
            or self.source_group.get("Description")
            or getattr(self, "_toolkit_prefix_description", None)
        )

    KinesisResponse.create_stream = create_stream_with_tags
    SecurityGroupRule.__init__, SecurityGroupRule.description = init, property(description)
    SecurityGroupRule._toolkit_patched = True


def _patch_rds() -> None:
    """One DbiResourceId per DB instance, as RDS gives: moto gives every instance the same one."""
    from moto.rds.models import DBInstance

    if getattr(DBInstance, "_toolkit_patched", False):
        return
    instance_init = DBInstance.__init__

    def init(self, *args, **kwargs):
        # The provider keeps an aws_db_instance by its DbiResourceId and reads it back with the
        # dbi-resource-id filter: with two instances (orders and the warehouse) moto's constant id
        # matches both, the provider takes "more than one" for "not found" and the apply fails after
        # ~80 s of "Still creating" with `couldn't find resource`.
        instance_init(self, *args, **kwargs)
        self.dbi_resource_id = dbi_resource_id()

    DBInstance.__init__, DBInstance._toolkit_patched = init, True


def dbi_resource_id() -> str:
    """A new DbiResourceId in RDS's form: "db-" and 26 upper-case letters and digits."""
    import secrets
    import string

    alphabet = string.ascii_uppercase + string.digits
    return "db-" + "".join(secrets.choice(alphabet) for _ in range(26))


def _epoch(moment) -> float:
    return moment.timestamp() if hasattr(moment, "timestamp") else float(moment)


def _applies_over_tls(statement: dict) -> bool:
    """False for a statement conditioned only on aws:SecureTransport being false (plain-HTTP requests)."""
    condition = statement.get("Condition") or {}
    if set(condition) != {"Bool"} or set(condition["Bool"]) != {"aws:SecureTransport"}:
        return True
    values = condition["Bool"]["aws:SecureTransport"]
    values = [values] if isinstance(values, str) else values
    return "true" in {str(v).lower() for v in values}


def serve(port: int, check_definition: DefinitionCheck) -> None:
    """Run the patched moto server on 127.0.0.1:`port` until this process is stopped."""
    import threading

    from moto.server import ThreadedMotoServer

    patch_moto(check_definition)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    log.info("moto server on 127.0.0.1:%d", port)
    threading.Event().wait()
