"""A network in the AWS emulator for one environment: a VPC and two private subnets in two zones, found
again by their tag, since the VPC and subnet ids in the var files exist only in the real account."""

from __future__ import annotations

from toolkit.adapters.aws.clients import client

TAG = "toolkit-emulated-network"


def _vpcs(ec2, owner: str) -> list[str]:
    found = ec2.describe_vpcs(Filters=[{"Name": f"tag:{TAG}", "Values": [owner]}])["Vpcs"]
    return [v["VpcId"] for v in found]


def ensure_network(owner: str, *, region: str, endpoint: str) -> dict[str, object]:
    """`vpc_id` and `private_subnet_ids` of the owner's network, created when it does not exist yet."""
    ec2 = client("ec2", region=region, endpoint=endpoint)
    vpcs = _vpcs(ec2, owner)
    if vpcs:
        vpc = vpcs[0]
    else:
        tags = [{"ResourceType": "vpc", "Tags": [{"Key": TAG, "Value": owner}]}]
        vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16", TagSpecifications=tags)["Vpc"]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    if len(subnets) < 2:
        for number, zone in ((1, "a"), (2, "b")):
            subnet = {"ResourceType": "subnet", "Tags": [{"Key": TAG, "Value": owner}]}
            ec2.create_subnet(
                VpcId=vpc,
                CidrBlock=f"10.10.{number}.0/24",
                AvailabilityZone=f"{region}{zone}",
                TagSpecifications=[subnet],
            )
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    ordered = sorted(subnets, key=lambda s: s["CidrBlock"])
    return {"vpc_id": vpc, "private_subnet_ids": [s["SubnetId"] for s in ordered]}


def remove_network(owner: str, *, region: str, endpoint: str) -> bool:
    """Delete the owner's network (its subnets, then the VPC); True if there was one."""
    ec2 = client("ec2", region=region, endpoint=endpoint)
    vpcs = _vpcs(ec2, owner)
    for vpc in vpcs:
        for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]:
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        ec2.delete_vpc(VpcId=vpc)
    return bool(vpcs)
