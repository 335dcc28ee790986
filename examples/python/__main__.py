"""The seed topology (the dev stack's hosts, VLANs and containers) deployed through the package.

See README.md: `pulumi package add` generates the `pulumi_macvlan_overlay` SDK used here.
"""
import pulumi
import pulumi_macvlan_overlay as macvlan_overlay

config = pulumi.Config()


def host(name, address, role, vlan_addresses, containers=()):
    return macvlan_overlay.HostSpecArgs(
        name=name,
        address=address,
        role=role,
        host_key=config.require(f"{name}Key"),
        vlan_addresses=vlan_addresses,
        containers=[macvlan_overlay.ContainerSpecArgs(name=n, vlan=v, ip=ip) for n, v, ip in containers],
    )


overlay = macvlan_overlay.MacvlanOverlay(
    "overlay",
    trunk_interface="ens33",
    persistence="network-scripts",
    ssh_user="root",
    ssh_private_key=config.require_secret("sshPrivateKey"),
    vlans=[
        macvlan_overlay.VlanSpecArgs(id=10, network="mac-net10", subnet="172.18.0.0/24", gateway="172.18.0.1"),
        macvlan_overlay.VlanSpecArgs(id=20, network="mac-net20", subnet="172.19.0.0/24", gateway="172.19.0.1"),
    ],
    hosts=[
        host("host1", "10.213.70.11", "docker", {"10": "192.168.22.10/24", "20": "192.168.23.10/24"},
             [("bbox10", 10, "172.18.0.2"), ("bbox20", 20, "172.19.0.3")]),
        host("host2", "10.213.70.12", "docker", {"10": "192.168.22.11/24", "20": "192.168.23.11/24"},
             [("bbox30", 10, "172.18.0.5"), ("bbox40", 20, "172.19.0.4")]),
        host("router", "10.213.70.13", "router", {"10": "172.18.0.1/24", "20": "172.19.0.1/24"}),
    ],
    router=macvlan_overlay.RouterSpecArgs(masquerade=True),
)

pulumi.export("summary", overlay.summary)
pulumi.export("connectivity", overlay.connectivity)
