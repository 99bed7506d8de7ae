locals {
  # ECR image URIs look like <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]/<repository>[:tag|@digest].
  # Anything else (a private registry, for example) gets no ECR statement.
  ecr_image = try(regex(
    "^(?P<account>[0-9]{12})\\.dkr\\.ecr(?:-fips)?\\.(?P<region>[a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/(?P<repository>[a-z0-9][a-z0-9._/-]*)(?:[:@].+)?$",
    var.image,
  ), null)

  ecr_repository_arn = local.ecr_image == null ? null : "arn:${local.partition}:ecr:${local.ecr_image.region}:${local.ecr_image.account}:repository/${local.ecr_image.repository}"

  # S3 locations the role may read: the artifact itself plus any extra URIs. A key ending in "/" is a
  # prefix (everything below it); any other key is exactly one object (a model.tar.gz).
  s3_read_uris = concat(var.model_data_url == null ? [] : [var.model_data_url], var.additional_s3_read_uris)

  s3_read_parts = [for uri in local.s3_read_uris : regex("^s3://([^/]+)/(.*)$", uri)]

  s3_read_locations = [
    for parts in local.s3_read_parts : {
      bucket      = parts[0]
      key_pattern = parts[1] == "" ? "*" : endswith(parts[1], "/") ? "${parts[1]}*" : parts[1]
    }
  ]

  s3_list_prefixes_by_bucket = {
    for bucket in distinct([for location in local.s3_read_locations : location.bucket]) :
    bucket => distinct([for location in local.s3_read_locations : location.key_pattern if location.bucket == bucket])
  }
}

data "aws_iam_policy_document" "assume_role" {
  count = local.create_role ? 1 : 0

  statement {
    sid     = "SageMakerAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }

    # Confused-deputy protection: only SageMaker acting for this account may assume the role.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "this" {
  count = local.create_role ? 1 : 0

  statement {
    sid = "EndpointLogs"
    # SageMaker writes container logs to /aws/sagemaker/Endpoints/<endpoint name>; the endpoint names
    # are not known to this module, so the grant covers that path of this account and region.
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/Endpoints/*",
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/Endpoints/*:log-stream:*",
    ]
  }

  statement {
    sid = "EndpointInstanceMetrics"
    # PutMetricData has no resource-level permissions; the namespace condition keeps the role to
    # SageMaker's own endpoint metrics (CPU, GPU, memory, disk of the instances).
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringLike"
      variable = "cloudwatch:namespace"
      values   = ["/aws/sagemaker/*"]
    }
  }

  dynamic "statement" {
    for_each = local.ecr_repository_arn == null ? [] : [local.ecr_repository_arn]

    content {
      sid       = "PullModelImage"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.ecr_repository_arn == null ? [] : [local.ecr_repository_arn]

    content {
      sid = "EcrAuthorizationToken"
      # GetAuthorizationToken issues a registry login token and has no resource-level permissions,
      # so it can only be granted on "*"; the pull itself is limited to one repository above.
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = length(local.s3_read_locations) == 0 ? [] : [local.s3_read_locations]

    content {
      sid       = "ReadModelArtifacts"
      actions   = ["s3:GetObject"]
      resources = distinct([for location in statement.value : "arn:${local.partition}:s3:::${location.bucket}/${location.key_pattern}"])
    }
  }

  dynamic "statement" {
    for_each = local.s3_list_prefixes_by_bucket

    content {
      actions   = ["s3:ListBucket"]
      resources = ["arn:${local.partition}:s3:::${statement.key}"]

      # A whole-bucket grant ("s3://bucket/") needs no prefix condition; requests without a prefix
      # would not match one.
      dynamic "condition" {
        for_each = contains(statement.value, "*") ? [] : [statement.value]

        content {
          test     = "StringLike"
          variable = "s3:prefix"
          values   = condition.value
        }
      }
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "DecryptModelArtifacts"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]

    content {
      sid = "DescribeNetwork"
      # EC2 Describe* calls do not support resource-level permissions: "*" is the only valid resource.
      actions = [
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
      ]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]

    content {
      sid     = "CreateEndpointNetworkInterfaces"
      actions = ["ec2:CreateNetworkInterface"]
      # The new interface's ID is not known beforehand, so network-interface/* of this account and
      # region; the subnets and security groups it may attach to are the configured ones only.
      resources = concat(
        ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"],
        [for id in statement.value.subnet_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${id}"],
        [for id in statement.value.security_group_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/${id}"],
      )
    }
  }

  dynamic "statement" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]

    content {
      sid = "ManageEndpointNetworkInterfaces"
      # SageMaker assigns the interface IDs, so these can only be scoped to this account and region.
      actions = [
        "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterface",
        "ec2:DeleteNetworkInterfacePermission",
      ]
      resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"]
    }
  }
}

resource "aws_iam_role" "this" {
  count = local.create_role ? 1 : 0

  name                 = "${var.name}-sagemaker"
  description          = "SageMaker execution role for model ${var.name}"
  assume_role_policy   = data.aws_iam_policy_document.assume_role[0].json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  count = local.create_role ? 1 : 0

  name   = "model-access"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.this[0].json
}
