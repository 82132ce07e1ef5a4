"""Emulator mode stands in for RDS endpoints only, one stand-in per instance."""


def test_only_an_rds_endpoint_is_stood_in_for():
    from toolkit.deploy.standin import instance_name, is_emulated_rds
    from toolkit.terraform.outputs import DatabaseOutput

    def output(host: str) -> DatabaseOutput:
        return DatabaseOutput("postgres", host, 5432, "orders", "orders_admin", "arn:…", None)

    rds = output("orders-pr-7-pg.abcdefghij.eu-west-1.rds.amazonaws.com")
    assert is_emulated_rds(rds) and instance_name(rds) == "orders-pr-7-pg"
    assert not is_emulated_rds(output("127.0.0.1")) and not is_emulated_rds(output("db.rds.amazonaws.com.evil.example"))
