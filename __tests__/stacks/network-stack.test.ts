import { logsKeyPolicyStatements } from "../../stacks/constructs/encrypted-log-group";
import { NETWORK_OUTPUTS } from "../../stacks/network-stack";
import { statementsOf } from "../helpers/policy";
import { compose, movedIntoEncryptedLogGroup, synth, testConfig } from "../helpers/synth";

const networkOf = (network: Record<string, unknown>) => synth(compose(testConfig({ network })).networks[0]!);

describe("network stack, endpoints mode (default)", () => {
  const out = networkOf({ vpcCidr: "10.42.0.0/16", azCount: 3, endpointAzCount: 2 });

  it("creates a VPC with DNS for private endpoint names and one private subnet per AZ", () => {
    expect(out.only("aws_vpc")).toMatchObject({
      cidr_block: "10.42.0.0/16",
      enable_dns_support: true,
      enable_dns_hostnames: true,
    });
    const subnets = Object.values(out.resources("aws_subnet"));
    expect(subnets).toHaveLength(3);
    subnets.forEach((s: any, i) => {
      expect(s.map_public_ip_on_launch).toBe(false);
      expect(s.cidr_block).toBe(`\${cidrsubnet(aws_vpc.vpc.cidr_block, 4, ${i})}`);
      expect(s.availability_zone).toBe(`\${element(data.aws_availability_zones.azs.names, ${i})}`);
    });
  });

  it("has no route to the internet", () => {
    expect(out.resources("aws_internet_gateway")).toEqual({});
    expect(out.resources("aws_nat_gateway")).toEqual({});
    expect(out.resources("aws_route")).toEqual({});
  });

  it("wires S3 and DynamoDB gateway endpoints to the workers' route table", () => {
    const endpoints = Object.values(out.resources("aws_vpc_endpoint")) as any[];
    const gateways = endpoints.filter((e) => e.vpc_endpoint_type === "Gateway");
    expect(gateways.map((g) => g.service_name).sort()).toEqual([
      "com.amazonaws.us-east-1.dynamodb",
      "com.amazonaws.us-east-1.s3",
    ]);
    gateways.forEach((g) => expect(g.route_table_ids).toEqual(["${aws_route_table.workers-rt.id}"]));
  });

  it("creates the interface endpoints the workers call, in endpointAzCount subnets, behind the endpoint SG", () => {
    const interfaces = (Object.values(out.resources("aws_vpc_endpoint")) as any[]).filter(
      (e) => e.vpc_endpoint_type === "Interface",
    );
    // The default exports dump RDS and Aurora (the job reads its password from SSM); the volume read path
    // needs no EBS direct APIs; nothing in the VPC calls STS.
    expect(interfaces.map((e) => e.service_name.replace("com.amazonaws.us-east-1.", "")).sort()).toEqual(
      ["ec2", "ecr.api", "ecr.dkr", "ecs", "ecs-agent", "ecs-telemetry", "logs", "ssm"].sort(),
    );
    for (const e of interfaces) {
      expect(e.private_dns_enabled).toBe(true);
      expect(e.subnet_ids).toEqual([
        "${element([aws_subnet.subnet-0.id, aws_subnet.subnet-1.id, aws_subnet.subnet-2.id], 0)}",
        "${element([aws_subnet.subnet-0.id, aws_subnet.subnet-1.id, aws_subnet.subnet-2.id], 1)}",
      ]);
      expect(e.security_group_ids).toEqual(["${aws_security_group.endpoint-sg.id}"]);
    }
  });

  it("adds the EBS direct APIs' endpoint for readPath direct, and leaves out SSM when no native dump is deployed", () => {
    const servicesOf = (overrides: Record<string, unknown>) =>
      (
        Object.values(
          synth(
            compose(testConfig({ network: { vpcCidr: "10.42.0.0/16", azCount: 2 }, ...overrides })).networks[0]!,
          ).resources("aws_vpc_endpoint"),
        ) as any[]
      )
        .filter((e) => e.vpc_endpoint_type === "Interface")
        .map((e) => e.service_name.replace("com.amazonaws.us-east-1.", ""));
    expect(servicesOf({ worker: { readPath: "direct" } })).toEqual(expect.arrayContaining(["ebs", "ssm"]));
    const parquetOnly = servicesOf({ exports: { rds: { format: "parquet" }, aurora: false } });
    expect(parquetOnly).not.toContain("ssm");
    expect(parquetOnly).not.toContain("ebs");
    expect(parquetOnly).toHaveLength(7);
    expect(servicesOf({ exports: { rds: false, aurora: { format: "both" } } })).toContain("ssm");
  });

  it("lets only the workers reach the endpoints, on 443", () => {
    const ingress = Object.values(out.resources("aws_vpc_security_group_ingress_rule")) as any[];
    expect(ingress).toEqual([
      expect.objectContaining({
        security_group_id: "${aws_security_group.endpoint-sg.id}",
        referenced_security_group_id: "${aws_security_group.worker-sg.id}",
        ip_protocol: "tcp",
        from_port: 443,
        to_port: 443,
      }),
    ]);
  });

  it("gives the workers no inbound rule and HTTPS out to AWS APIs only", () => {
    const egress = Object.values(out.resources("aws_vpc_security_group_egress_rule")) as any[];
    expect(egress.map((r) => r.referenced_security_group_id ?? r.prefix_list_id).sort()).toEqual([
      "${aws_security_group.endpoint-sg.id}",
      "${aws_vpc_endpoint.dynamodb-endpoint.prefix_list_id}",
      "${aws_vpc_endpoint.s3-endpoint.prefix_list_id}",
    ]);
    egress.forEach((r) => expect([r.from_port, r.to_port, r.cidr_ipv4]).toEqual([443, 443, undefined]));
    for (const sg of Object.values(out.resources("aws_security_group")) as any[]) expect(sg.ingress).toBeUndefined();
  });

  it("describes the worker security group as what uses it: the Batch workers (no Lambda runs in the VPC)", () => {
    const pipeline = synth(compose(testConfig()).pipelines[0]!);
    const lambdas = Object.values(pipeline.resources("aws_lambda_function")) as any[];
    expect(lambdas.length).toBeGreaterThan(0);
    lambdas.forEach((f) => expect(f.vpc_config).toBeUndefined());
    expect(out.tf.output[NETWORK_OUTPUTS.workerSecurityGroupId].description).toBe(
      "Security group of the Batch workers: no inbound rule.",
    );
  });

  it("closes the default security group", () => {
    const sg = out.only("aws_default_security_group");
    expect(sg.vpc_id).toBe("${aws_vpc.vpc.id}");
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
  });

  it("sends flow logs to a log group with retention, encrypted with its own key (EncryptedLogGroup)", () => {
    expect(out.only("aws_flow_log")).toMatchObject({
      traffic_type: "ALL",
      log_destination_type: "cloud-watch-logs",
      vpc_id: "${aws_vpc.vpc.id}",
      log_destination: expect.stringMatching(
        /^\$\{aws_cloudwatch_log_group\.flow-logs_log-group_this_[0-9A-F]{8}\.arn\}$/,
      ),
    });
    expect(out.only("aws_cloudwatch_log_group")).toMatchObject({
      name: "/backup-actions/vpc-flow-logs",
      retention_in_days: 365,
      kms_key_id: expect.stringMatching(/^\$\{aws_kms_key\.flow-logs_log-group_key_[0-9A-F]{8}\.arn\}$/),
    });
    expect(out.only("aws_kms_key")).toMatchObject({
      description: "backup-actions VPC flow logs",
      enable_key_rotation: true,
      deletion_window_in_days: 30,
    });
    // The key policy is EncryptedLogGroup's, for this log group (asserted statement by statement in its test).
    expect(statementsOf(out, "flow-logs_log-group_key-policy")).toEqual(
      logsKeyPolicyStatements({
        accountId: "111111111111",
        region: "us-east-1",
        logGroupArns: ["arn:aws:logs:us-east-1:111111111111:log-group:/backup-actions/vpc-flow-logs"],
      }),
    );
  });

  it("moves the flow log group and its key from their addresses before EncryptedLogGroup, keeping them in state", () => {
    expect(out.tf.moved).toEqual(
      expect.arrayContaining(
        movedIntoEncryptedLogGroup("flow-logs", {
          logGroup: "flow-logs_log-group_BD9661F8",
          key: "flow-logs_key_F20156EF",
        }),
      ),
    );
    expect(out.tf.moved).toHaveLength(2);
  });

  it("names every output <resource>_<attr> and describes it", () => {
    const outputs = out.tf.output as Record<string, { description?: string }>;
    expect(Object.keys(outputs).sort()).toEqual(Object.values(NETWORK_OUTPUTS).sort());
    for (const [name, o] of Object.entries(outputs)) {
      expect(name).toMatch(/^[a-z0-9]+(_[a-z0-9]+)+$/);
      expect(o.description).toMatch(/\S{3,}/);
    }
  });
});

describe("network stack, nat mode", () => {
  const out = networkOf({ vpcCidr: "10.42.0.0/16", azCount: 2, egress: "nat" });

  it("routes the private subnets through one NAT gateway in its own public subnet", () => {
    expect(out.only("aws_nat_gateway")).toMatchObject({
      subnet_id: "${aws_subnet.nat-subnet.id}",
      allocation_id: "${aws_eip.nat-eip.id}",
    });
    const routes = out.resources("aws_route");
    expect(routes["workers-default-route"]).toMatchObject({
      route_table_id: "${aws_route_table.workers-rt.id}",
      nat_gateway_id: "${aws_nat_gateway.nat.id}",
    });
    expect(routes["nat-default-route"]).toMatchObject({ gateway_id: "${aws_internet_gateway.igw.id}" });
  });

  it("has no interface endpoints and no public IP on launch", () => {
    const interfaces = (Object.values(out.resources("aws_vpc_endpoint")) as any[]).filter(
      (e) => e.vpc_endpoint_type === "Interface",
    );
    expect(interfaces).toEqual([]);
    for (const s of Object.values(out.resources("aws_subnet")) as any[]) expect(s.map_public_ip_on_launch).toBe(false);
  });
});

describe("network stack, public mode", () => {
  const out = networkOf({ vpcCidr: "10.42.0.0/16", azCount: 2, egress: "public" });

  it("gives the workers public subnets with public IPs and an internet route", () => {
    for (const s of Object.values(out.resources("aws_subnet")) as any[]) expect(s.map_public_ip_on_launch).toBe(true);
    expect(out.resources("aws_route")["workers-default-route"]).toMatchObject({
      gateway_id: "${aws_internet_gateway.igw.id}",
    });
    expect(out.resources("aws_nat_gateway")).toEqual({});
  });

  it("still allows no inbound traffic from anywhere", () => {
    const ingress = Object.values(out.resources("aws_vpc_security_group_ingress_rule")) as any[];
    expect(ingress.every((r) => r.cidr_ipv4 === undefined && r.cidr_ipv6 === undefined)).toBe(true);
  });
});

describe("network stack, existing VPC", () => {
  const out = networkOf({
    vpcId: "vpc-0123456789abcdef0",
    subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    routeTableIds: ["rtb-0123456789abcdef0"],
  });

  it("creates no VPC, subnets, routes, flow logs or default-SG takeover", () => {
    for (const type of ["aws_vpc", "aws_subnet", "aws_route_table", "aws_flow_log", "aws_default_security_group"])
      expect(out.resources(type)).toEqual({});
  });

  it("adds gateway endpoints to the given route tables and outputs the given subnets", () => {
    const s3 = (Object.values(out.resources("aws_vpc_endpoint")) as any[]).find((e) => e.service_name.endsWith(".s3"));
    expect(s3).toMatchObject({ vpc_id: "vpc-0123456789abcdef0", route_table_ids: ["rtb-0123456789abcdef0"] });
    expect(out.tf.output.subnet_ids.value).toEqual(["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]);
    expect(out.tf.output.subnet_availability_zones.value).toEqual([
      "${data.aws_subnet.existing-subnet-0.availability_zone}",
      "${data.aws_subnet.existing-subnet-1.availability_zone}",
    ]);
  });
});

describe("network stack, China (aws-cn)", () => {
  const out = synth(
    compose(
      testConfig({
        accounts: [{ id: "111111111111", regions: ["cn-north-1"] }],
        stateBackend: { type: "s3", bucket: "state-bucket-111", region: "cn-north-1", keyPrefix: "ba" },
      }),
    ).networks[0]!,
  );
  const endpoints = Object.values(out.resources("aws_vpc_endpoint")) as any[];
  const serviceNames = (type: string) =>
    endpoints
      .filter((e) => e.vpc_endpoint_type === type)
      .map((e) => e.service_name)
      .sort();

  it("names EC2 and ECR interface endpoints cn.com.amazonaws.<region>.*, the others com.amazonaws.<region>.*", () => {
    expect(serviceNames("Interface")).toEqual(
      [
        "cn.com.amazonaws.cn-north-1.ec2",
        "cn.com.amazonaws.cn-north-1.ecr.api",
        "cn.com.amazonaws.cn-north-1.ecr.dkr",
        "com.amazonaws.cn-north-1.ecs",
        "com.amazonaws.cn-north-1.ecs-agent",
        "com.amazonaws.cn-north-1.ecs-telemetry",
        "com.amazonaws.cn-north-1.logs",
        "com.amazonaws.cn-north-1.ssm",
      ].sort(),
    );
  });

  it("keeps the gateway endpoints com.amazonaws.<region>.s3 and .dynamodb", () => {
    expect(serviceNames("Gateway")).toEqual(["com.amazonaws.cn-north-1.dynamodb", "com.amazonaws.cn-north-1.s3"]);
  });
});
