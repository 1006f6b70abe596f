"""The deployed Studio page in template.yaml: a private bucket only CloudFront reads, sign-in by the
hosted UI with PKCE, and CORS that lets the page call the API and upload to the media bucket."""

from __future__ import annotations

import json
from typing import Any

from local.cfn import load_template
from local.stack import DEFAULT_TEMPLATE, local_plan


def resources() -> dict[str, Any]:
    return dict(load_template(DEFAULT_TEMPLATE)["Resources"])


def test_the_studio_bucket_is_private_and_read_only_by_its_distribution() -> None:
    plan = local_plan()
    block = plan.buckets["StudioBucket"]["PublicAccessBlockConfiguration"]
    assert block == {
        k: True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    }
    statements = resources()["StudioBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert "${StudioDistribution}" in json.dumps(allow["Condition"]["StringEquals"]["AWS:SourceArn"])

    config = resources()["StudioDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["StudioOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]


def test_sign_in_is_the_hosted_ui_with_the_code_flow_back_to_the_page() -> None:
    client = resources()["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False  # a browser keeps no secret: PKCE instead
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["CallbackURLs"] == [{"Fn::Sub": "https://${StudioDistribution.DomainName}/studio/"}]
    plan = local_plan()
    config = json.loads(plan.outputs["StudioConfig"])
    assert config["auth"]["mode"] == "oidc"
    assert config["auth"]["client_id"] == plan.physical["UserPoolClient"]
    assert config["auth"]["authorize_endpoint"].endswith(".amazoncognito.com/oauth2/authorize")
    assert config["api_base"] == plan.outputs["ApiUrl"]
    assert plan.outputs["StudioUrl"].endswith("/studio/")


def test_cors_admits_the_studio_page_beside_the_configured_origins() -> None:
    anyone = local_plan()
    assert anyone.cors is not None and anyone.cors.allow_origins == ("*",)
    named = local_plan(parameters={"CorsAllowedOrigins": "https://brand.example.com"})
    studio = named.outputs["StudioUrl"].removesuffix("/studio/")
    assert named.cors is not None
    assert named.cors.allow_origins == ("https://brand.example.com", studio)
    (rule,) = named.buckets["MediaBucket"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == ["https://brand.example.com", studio]
    assert "POST" in rule["AllowedMethods"]  # presigned POST uploads from the page
