"""Fleet mode: find opted-in endpoints by tag, and read their activity from CloudWatch in batches.

Every call here pages through a list API, so a tick over hundreds of endpoints costs a handful of calls:
tag discovery (100 resources a page), ListMetrics (500 metrics a page) and GetMetricData (500 queries a call).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sleepwake.aws import clients as aws

NAMESPACE = "AWS/SageMaker"
METRIC = "Invocations"
QUERIES_PER_CALL = 500  # GetMetricData's limit


@dataclass(frozen=True)
class Tagged:
    arn: str
    tags: Mapping[str, str]


def arn_name(arn: str) -> str:
    """The endpoint name in an ARN (SageMaker lower-cases it there)."""
    return arn.rsplit("/", 1)[-1]


class FleetDiscovery:
    def __init__(self, tag_key: str, tag_value: str) -> None:
        self.tag_key, self.tag_value = tag_key, tag_value

    def tagged(self) -> dict[str, Tagged]:
        """Opted-in endpoints keyed by lower-cased name (the tagging API knows names only from ARNs)."""
        found: dict[str, Tagged] = {}
        paginator = aws.client("resourcegroupstaggingapi").get_paginator("get_resources")
        pages = paginator.paginate(
            ResourceTypeFilters=["sagemaker:endpoint"],
            TagFilters=[{"Key": self.tag_key, "Values": [self.tag_value]}],
            ResourcesPerPage=100,
        )
        for page in pages:
            for resource in page.get("ResourceTagMappingList", []):
                arn = resource["ResourceARN"]
                tags = {t["Key"]: t["Value"] for t in resource.get("Tags", [])}
                found[arn_name(arn).lower()] = Tagged(arn, tags)
        return found

    def opted_in(self, tags: Mapping[str, str]) -> bool:
        return tags.get(self.tag_key) == self.tag_value


class CloudWatchActivity:
    """Latest minute with invocations per endpoint, summed over every variant the endpoint has metrics for.

    No variant name is assumed: ListMetrics finds each (EndpointName, VariantName) pair that reported, and one
    MetricStat query per pair is summed per endpoint. CloudWatch publishes SageMaker metrics a few minutes late;
    the grace period after InService covers that (missing data is idle only after it).
    """

    def __init__(self, lookback_seconds: int = 1800) -> None:
        self.lookback_seconds = lookback_seconds

    def variants(self, endpoint_names: Iterable[str]) -> dict[str, list[str]]:
        wanted = set(endpoint_names)
        pairs: dict[str, list[str]] = {}
        if not wanted:
            return pairs
        paginator = aws.client("cloudwatch").get_paginator("list_metrics")
        for page in paginator.paginate(Namespace=NAMESPACE, MetricName=METRIC, RecentlyActive="PT3H"):
            for metric in page.get("Metrics", []):
                dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
                name, variant = dims.get("EndpointName"), dims.get("VariantName")
                if name in wanted and variant is not None and set(dims) == {"EndpointName", "VariantName"}:
                    pairs.setdefault(name, []).append(variant)
        return pairs

    def latest(
        self, endpoint_names: Iterable[str], now: float, variants: Mapping[str, list[str]] | None = None
    ) -> dict[str, float]:
        """{endpoint: start of the latest minute with invocations > 0} within the look-back window."""
        names = list(endpoint_names)
        variants = self.variants(names) if variants is None else variants
        queries, owners = [], {}
        for name in sorted(variants):
            for variant in sorted(variants[name]):
                query_id = f"q{len(queries)}"
                owners[query_id] = name
                queries.append(
                    {
                        "Id": query_id,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": NAMESPACE,
                                "MetricName": METRIC,
                                "Dimensions": [
                                    {"Name": "EndpointName", "Value": name},
                                    {"Name": "VariantName", "Value": variant},
                                ],
                            },
                            "Period": 60,
                            "Stat": "Sum",
                        },
                        "ReturnData": True,
                    }
                )
        latest: dict[str, float] = {}
        if not queries:
            return latest
        start = datetime.fromtimestamp(now - self.lookback_seconds, tz=UTC)
        end = datetime.fromtimestamp(now + 60, tz=UTC)
        cloudwatch = aws.client("cloudwatch")
        for offset in range(0, len(queries), QUERIES_PER_CALL):
            kwargs = {
                "MetricDataQueries": queries[offset : offset + QUERIES_PER_CALL],
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampDescending",
            }
            while True:
                answer = cloudwatch.get_metric_data(**kwargs)
                for result in answer.get("MetricDataResults", []):
                    name = owners[result["Id"]]
                    for when, value in zip(result.get("Timestamps", []), result.get("Values", [])):
                        if value > 0:
                            latest[name] = max(latest.get(name, 0.0), when.timestamp())
                if not answer.get("NextToken"):
                    break
                kwargs["NextToken"] = answer["NextToken"]
        return latest
