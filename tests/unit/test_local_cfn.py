"""local/cfn.py: template loading, Globals, Conditions and intrinsic-function resolution."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from local.cfn import (
    NO_VALUE,
    Resolver,
    TemplateError,
    TemplateLoader,
    apply_definition_substitutions,
    apply_globals,
    evaluate_conditions,
    function_environment,
    function_events,
    function_layers,
    is_intrinsic,
    load_template,
    parameter_values,
    parse_template,
    resource_enabled,
    resources_of_type,
    s3_filter_rules,
    state_machine_definition,
)

FIXTURES = Path(__file__).parent / "fixtures"
SAM_TEMPLATE = FIXTURES / "sam_template.yaml"


def tpl(text: str) -> dict[str, Any]:
    """Parse a small inline template; a Resources section is added when missing."""
    if "Resources:" not in text:
        text += "\nResources: {}\n"
    return parse_template(text)


def resolver(template: dict[str, Any], **kwargs: Any) -> Resolver:
    return Resolver(template, **kwargs)


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


class TestLoading:
    def test_short_tags_become_long_forms(self) -> None:
        t = tpl(
            """
Resources:
  R:
    Type: X
    Properties:
      ref: !Ref Thing
      getatt_dotted: !GetAtt Fn.Arn
      getatt_nested_attr: !GetAtt Db.Endpoint.Address
      getatt_list: [!GetAtt [Fn, Arn]]
      sub: !Sub "${A}-x"
      sub_list: !Sub ["${A}-${B}", {B: !Ref Other}]
      join: !Join [",", [a, !Ref P]]
      if: !If [Cond, yes-value, !Ref AWS::NoValue]
      select: !Select [1, !Split [",", "a,b"]]
      b64: !Base64 hello
      azs: !GetAZs ""
      import: !ImportValue shared-vpc
      cidr: !Cidr ["10.0.0.0/16", 2, 8]
      map: !FindInMap [M, k1, k2]
"""
        )
        p = t["Resources"]["R"]["Properties"]
        assert p["ref"] == {"Ref": "Thing"}
        assert p["getatt_dotted"] == {"Fn::GetAtt": ["Fn", "Arn"]}
        assert p["getatt_nested_attr"] == {"Fn::GetAtt": ["Db", "Endpoint.Address"]}
        assert p["getatt_list"] == [{"Fn::GetAtt": ["Fn", "Arn"]}]
        assert p["sub"] == {"Fn::Sub": "${A}-x"}
        assert p["sub_list"] == {"Fn::Sub": ["${A}-${B}", {"B": {"Ref": "Other"}}]}
        assert p["join"] == {"Fn::Join": [",", ["a", {"Ref": "P"}]]}
        assert p["if"] == {"Fn::If": ["Cond", "yes-value", {"Ref": "AWS::NoValue"}]}
        assert p["select"] == {"Fn::Select": [1, {"Fn::Split": [",", "a,b"]}]}
        assert p["b64"] == {"Fn::Base64": "hello"}
        assert p["azs"] == {"Fn::GetAZs": ""}
        assert p["import"] == {"Fn::ImportValue": "shared-vpc"}
        assert p["cidr"] == {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}
        assert p["map"] == {"Fn::FindInMap": ["M", "k1", "k2"]}

    def test_condition_functions(self) -> None:
        t = tpl(
            """
Conditions:
  A: !Equals [!Ref P, x]
  B: !Not [!Condition A]
  C: !And [!Condition A, !Or [!Condition B, !Equals [1, 1]]]
"""
        )
        c = t["Conditions"]
        assert c["A"] == {"Fn::Equals": [{"Ref": "P"}, "x"]}
        assert c["B"] == {"Fn::Not": [{"Condition": "A"}]}
        assert c["C"] == {
            "Fn::And": [{"Condition": "A"}, {"Fn::Or": [{"Condition": "B"}, {"Fn::Equals": [1, 1]}]}]
        }

    def test_mapping_form_tag(self) -> None:
        t = tpl("Resources:\n  R:\n    Type: X\n    Properties:\n      v: !Transform {Name: AWS::Include}\n")
        assert t["Resources"]["R"]["Properties"]["v"] == {"Fn::Transform": {"Name": "AWS::Include"}}

    def test_dates_stay_strings(self) -> None:
        t = tpl("AWSTemplateFormatVersion: 2010-09-09\n")
        assert t["AWSTemplateFormatVersion"] == "2010-09-09"

    def test_global_safe_loader_untouched(self) -> None:
        assert TemplateLoader is not yaml.SafeLoader
        with pytest.raises(yaml.constructor.ConstructorError):
            yaml.safe_load("a: !Ref B")
        assert str(yaml.safe_load("d: 2010-09-09")["d"]) == "2010-09-09"
        assert type(yaml.safe_load("d: 2010-09-09")["d"]).__name__ == "date"

    def test_unknown_tag_rejected(self) -> None:
        with pytest.raises(TemplateError, match="unknown tag !Reff"):
            tpl("Resources:\n  R:\n    Type: X\n    Properties:\n      v: !Reff B\n")

    def test_bad_dotted_getatt(self) -> None:
        with pytest.raises(TemplateError, match=r"LogicalId\.Attribute"):
            tpl("Resources:\n  R:\n    Type: X\n    Properties:\n      v: !GetAtt NoDot\n")

    def test_duplicate_keys_rejected(self) -> None:
        with pytest.raises(TemplateError, match="duplicate key 'Type'"):
            tpl("Resources:\n  R:\n    Type: X\n    Type: Y\n")

    def test_json_template(self, tmp_path: Path) -> None:
        path = tmp_path / "t.json"
        body = {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"N": {"Fn::Sub": "x"}}}}}
        path.write_text(json.dumps(body))
        assert load_template(path) == body

    def test_load_from_str_path(self, tmp_path: Path) -> None:
        path = tmp_path / "t.yaml"
        path.write_text("Resources:\n  B:\n    Type: AWS::S3::Bucket\n")
        assert load_template(str(path))["Resources"]["B"]["Type"] == "AWS::S3::Bucket"

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(TemplateError, match="cannot read template"):
            load_template(tmp_path / "absent.yaml")

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("- a\n- b\n", "mapping at the top level"),
            ("Description: x\n", "no Resources"),
            ("Resources: [\n", "cannot parse"),
            ('{"Resources": ', "cannot parse"),
        ],
    )
    def test_malformed(self, text: str, message: str) -> None:
        with pytest.raises(TemplateError, match=message):
            parse_template(text)

    def test_is_intrinsic(self) -> None:
        assert is_intrinsic({"Ref": "X"})
        assert is_intrinsic({"Fn::Sub": "x"})
        assert is_intrinsic({"Condition": "C"})
        assert not is_intrinsic({"Ref": "X", "Other": 1})
        assert not is_intrinsic({"Variables": {}})
        assert not is_intrinsic("Ref")


# --------------------------------------------------------------------------------------
# Globals
# --------------------------------------------------------------------------------------


GLOBALS_TEMPLATE = """
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
    Layers: [!Ref L1]
    Environment:
      Variables:
        A: global-a
        B: global-b
    Tags: {team: studio}
    VpcConfig: !If [UseVpc, {SubnetIds: [s]}, !Ref AWS::NoValue]
  HttpApi:
    CorsConfiguration: {AllowOrigins: ["*"]}
  SimpleTable:
    SSESpecification: {SSEEnabled: true}
Resources:
  F1:
    Type: AWS::Serverless::Function
    Properties:
      Handler: a.h
      Timeout: 30
      Layers: [!Ref L2]
      Environment:
        Variables:
          B: local-b
          C: local-c
      VpcConfig: {SubnetIds: [local]}
  F2:
    Type: AWS::Serverless::Function
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration: {AllowMethods: [GET]}
  T:
    Type: AWS::Serverless::SimpleTable
  Plain:
    Type: AWS::Lambda::Function
    Properties: {Handler: x}
"""


class TestGlobals:
    def test_merge_rules(self) -> None:
        t = apply_globals(tpl(GLOBALS_TEMPLATE))
        f1 = t["Resources"]["F1"]["Properties"]
        assert f1["Runtime"] == "python3.12"  # from Globals
        assert f1["Timeout"] == 30  # scalar: resource wins
        assert f1["Layers"] == [{"Ref": "L1"}, {"Ref": "L2"}]  # lists: Globals first
        assert f1["Environment"] == {"Variables": {"A": "global-a", "B": "local-b", "C": "local-c"}}
        assert f1["Tags"] == {"team": "studio"}
        # an intrinsic function counts as a scalar: the resource's value replaces it
        assert f1["VpcConfig"] == {"SubnetIds": ["local"]}

    def test_resource_without_properties_gets_globals(self) -> None:
        f2 = apply_globals(tpl(GLOBALS_TEMPLATE))["Resources"]["F2"]["Properties"]
        assert f2["Runtime"] == "python3.12"
        assert f2["Environment"]["Variables"] == {"A": "global-a", "B": "global-b"}
        assert f2["VpcConfig"] == {"Fn::If": ["UseVpc", {"SubnetIds": ["s"]}, {"Ref": "AWS::NoValue"}]}

    def test_other_sections_and_types(self) -> None:
        t = apply_globals(tpl(GLOBALS_TEMPLATE))
        assert t["Resources"]["Api"]["Properties"]["CorsConfiguration"] == {
            "AllowOrigins": ["*"],
            "AllowMethods": ["GET"],
        }
        assert t["Resources"]["T"]["Properties"] == {"SSESpecification": {"SSEEnabled": True}}
        assert t["Resources"]["Plain"]["Properties"] == {"Handler": "x"}  # not a SAM type
        assert "Globals" not in t

    def test_deep_copy(self) -> None:
        original = tpl(GLOBALS_TEMPLATE)
        snapshot = json.dumps(original, sort_keys=True)
        t = apply_globals(original)
        t["Resources"]["F2"]["Properties"]["Environment"]["Variables"]["A"] = "changed"
        t["Resources"]["F1"]["Properties"]["Layers"].append("x")
        assert json.dumps(original, sort_keys=True) == snapshot
        f2_again = apply_globals(original)["Resources"]["F2"]["Properties"]
        assert f2_again["Environment"]["Variables"]["A"] == "global-a"

    def test_no_globals(self) -> None:
        t = tpl("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: h}\n")
        assert apply_globals(t) == t

    def test_unknown_section(self) -> None:
        with pytest.raises(TemplateError, match="Globals has unsupported section"):
            apply_globals(tpl("Globals:\n  Functions: {Timeout: 3}\n"))


# --------------------------------------------------------------------------------------
# Parameters and conditions
# --------------------------------------------------------------------------------------

CONDITIONS_TEMPLATE = """
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Issuer: {Type: String, Default: ""}
  Count: {Type: Number, Default: 3}
  Zones: {Type: CommaDelimitedList, Default: "a, b"}
  Required: {Type: String}
Mappings:
  EnvMap:
    dev: {Big: "no"}
    prod: {Big: "yes"}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  NoIssuer: !Equals ["", !Ref Issuer]
  Both: !And [!Condition IsDev, !Condition NoIssuer]
  Either: !Or [!Condition IsProd, !Equals [!Ref Count, 3]]
  BigFromMap: !Equals [!FindInMap [EnvMap, !Ref Env, Big], "yes"]
  InEast: !Equals [!Ref AWS::Region, us-east-1]
  FirstZoneA: !Equals [!Select [0, !Ref Zones], a]
"""


class TestConditions:
    def test_defaults(self) -> None:
        c = evaluate_conditions(tpl(CONDITIONS_TEMPLATE))
        assert c == {
            "IsProd": False,
            "IsDev": True,
            "NoIssuer": True,
            "Both": True,
            "Either": True,
            "BigFromMap": False,
            "InEast": True,
            "FirstZoneA": True,
        }

    def test_overrides_and_region(self) -> None:
        c = evaluate_conditions(
            tpl(CONDITIONS_TEMPLATE),
            {"Env": "prod", "Issuer": "https://idp", "Count": 4},
            region="eu-west-1",
        )
        assert c["IsProd"] and not c["IsDev"] and not c["NoIssuer"] and not c["Both"]
        assert c["Either"] and c["BigFromMap"] and not c["InEast"]

    def test_number_compared_as_string(self) -> None:
        assert evaluate_conditions(tpl(CONDITIONS_TEMPLATE), {"Count": "3"})["Either"]

    def test_ref_to_parameter_without_value(self) -> None:
        t = tpl("Parameters:\n  P: {Type: String}\nConditions:\n  C: !Equals [!Ref P, x]\n")
        with pytest.raises(TemplateError, match=r"Conditions\.C.*Ref P.*no value or default"):
            evaluate_conditions(t)
        assert evaluate_conditions(t, {"P": "x"}) == {"C": True}

    def test_unknown_condition(self) -> None:
        t = tpl("Conditions:\n  C: !Not [!Condition Missing]\n")
        with pytest.raises(TemplateError, match="unknown condition 'Missing'"):
            evaluate_conditions(t)

    def test_cycle(self) -> None:
        t = tpl("Conditions:\n  A: !Not [!Condition B]\n  B: !Not [!Condition A]\n")
        with pytest.raises(TemplateError, match="circular"):
            evaluate_conditions(t)

    def test_not_a_condition_function(self) -> None:
        with pytest.raises(TemplateError, match="a condition must be"):
            evaluate_conditions(tpl("Conditions:\n  A: !Ref X\n"))

    def test_wrong_arity(self) -> None:
        with pytest.raises(TemplateError, match="Fn::Equals takes a list of 2"):
            evaluate_conditions(tpl("Conditions:\n  A: !Equals [a]\n"))

    def test_no_conditions(self) -> None:
        assert evaluate_conditions(tpl("Description: x\n")) == {}


class TestParameters:
    def test_defaults_types_and_overrides(self) -> None:
        t = tpl(CONDITIONS_TEMPLATE)
        assert parameter_values(t) == {"Env": "dev", "Issuer": "", "Count": "3", "Zones": ["a", "b"]}
        values = parameter_values(t, {"Zones": "x,y,z", "Required": True, "Count": 7})
        assert values["Zones"] == ["x", "y", "z"]
        assert values["Required"] == "true"
        assert values["Count"] == "7"
        assert parameter_values(t, {"Zones": ["p"]})["Zones"] == ["p"]

    def test_unknown_parameter(self) -> None:
        with pytest.raises(TemplateError, match="Envv are not declared"):
            parameter_values(tpl(CONDITIONS_TEMPLATE), {"Envv": "dev"})

    def test_allowed_values(self) -> None:
        with pytest.raises(TemplateError, match="'test' is not one of its AllowedValues"):
            parameter_values(tpl(CONDITIONS_TEMPLATE), {"Env": "test"})


# --------------------------------------------------------------------------------------
# Resolver
# --------------------------------------------------------------------------------------

RESOLVE_TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: dev}
  Names: {Type: CommaDelimitedList, Default: "x,y"}
Mappings:
  Sizes:
    dev: {Memory: 256, Tags: [a, b]}
Conditions:
  IsDev: !Equals [!Ref Stage, dev]
Resources:
  Table: {Type: AWS::DynamoDB::Table}
  Fn: {Type: AWS::Lambda::Function}
  Pool:
    Type: AWS::Cognito::UserPool
    Condition: IsProd
  Later: {Type: AWS::SNS::Topic}
"""

REFS = {"Table": "jobs-table", "Fn": "fn-name"}
ATTRS = {
    ("Fn", "Arn"): "arn:aws:lambda:us-east-1:123456789012:function:fn-name",
    ("Table", "StreamArn"): "s-arn",
}


@pytest.fixture
def r() -> Resolver:
    t = tpl(RESOLVE_TEMPLATE.replace("Condition: IsProd", "Condition: IsDevOff"))
    t["Conditions"]["IsDevOff"] = {"Fn::Not": [{"Condition": "IsDev"}]}
    return Resolver(t, refs=REFS, attrs=ATTRS)


class TestResolver:
    def test_ref(self, r: Resolver) -> None:
        assert r.resolve({"Ref": "Stage"}) == "dev"
        assert r.resolve({"Ref": "Names"}) == ["x", "y"]
        assert r.resolve({"Ref": "Table"}) == "jobs-table"
        assert r.ref("Fn") == "fn-name"

    def test_pseudo_parameters(self) -> None:
        r = Resolver(tpl("Description: x\n"), region="eu-west-1", account_id="111122223333", stack_name="s")
        assert r.resolve({"Ref": "AWS::Region"}) == "eu-west-1"
        assert r.resolve({"Ref": "AWS::AccountId"}) == "111122223333"
        assert r.resolve({"Ref": "AWS::StackName"}) == "s"
        assert r.resolve({"Ref": "AWS::Partition"}) == "aws"
        assert r.resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com"
        assert r.resolve({"Ref": "AWS::NotificationARNs"}) == []
        assert r.resolve({"Ref": "AWS::StackId"}).startswith(
            "arn:aws:cloudformation:eu-west-1:111122223333:stack/s/"
        )
        china = Resolver(tpl("Description: x\n"), region="cn-north-1")
        assert china.resolve({"Fn::Sub": "${AWS::Partition} ${AWS::URLSuffix}"}) == "aws-cn amazonaws.com.cn"
        with pytest.raises(TemplateError, match="unknown pseudo parameter AWS::Nope"):
            china.resolve({"Ref": "AWS::Nope"})

    def test_get_att(self, r: Resolver) -> None:
        assert r.resolve({"Fn::GetAtt": ["Fn", "Arn"]}).endswith(":function:fn-name")
        assert r.resolve({"Fn::GetAtt": "Table.StreamArn"}) == "s-arn"
        assert r.get_att("Table", "StreamArn") == "s-arn"

    def test_get_att_attribute_from_intrinsic(self, r: Resolver) -> None:
        t = tpl("Parameters:\n  A: {Type: String, Default: Arn}\nResources:\n  Fn: {Type: X}\n")
        rr = Resolver(t, attrs=ATTRS)
        assert rr.resolve({"Fn::GetAtt": ["Fn", {"Ref": "A"}]}) == ATTRS[("Fn", "Arn")]

    def test_callables(self) -> None:
        t = tpl(RESOLVE_TEMPLATE)
        seen: list[tuple[str, str]] = []

        def attrs(logical_id: str, attribute: str) -> str:
            seen.append((logical_id, attribute))
            if logical_id == "Later":
                raise KeyError(logical_id)
            return f"{logical_id}/{attribute}"

        rr = Resolver(t, refs=lambda name: f"ref:{name}", attrs=attrs)
        assert rr.resolve({"Ref": "Later"}) == "ref:Later"
        assert rr.resolve({"Fn::Sub": "${Fn.Arn}|${Table}"}) == "Fn/Arn|ref:Table"
        assert seen == [("Fn", "Arn")]
        with pytest.raises(TemplateError, match=r"Later\.TopicName"):
            rr.resolve({"Fn::GetAtt": ["Later", "TopicName"]})

    def test_sub(self, r: Resolver) -> None:
        assert r.resolve({"Fn::Sub": "${Stage}-${Table}-${AWS::Region}"}) == "dev-jobs-table-us-east-1"
        assert r.resolve({"Fn::Sub": "${Fn.Arn}"}) == ATTRS[("Fn", "Arn")]
        assert r.resolve({"Fn::Sub": "${!Literal} and ${!Stage}"}) == "${Literal} and ${Stage}"
        assert r.resolve({"Fn::Sub": "no variables $ {x} $x"}) == "no variables $ {x} $x"
        assert r.resolve({"Fn::Sub": ["${A}/${Stage}/${B}", {"A": {"Ref": "Table"}, "B": 5}]}) == (
            "jobs-table/dev/5"
        )
        # variables in the map shadow parameters and resources
        assert r.resolve({"Fn::Sub": ["${Stage}", {"Stage": "shadow"}]}) == "shadow"
        assert r.resolve({"Fn::Sub": ["${Table.Name}", {"Table.Name": "n"}]}) == "n"

    def test_sub_errors(self, r: Resolver) -> None:
        with pytest.raises(TemplateError, match=r"Fn::Sub \(\$\{Nope\}\): cannot resolve Ref Nope"):
            r.resolve({"Fn::Sub": "x-${Nope}"})
        with pytest.raises(TemplateError, match="must resolve to a string"):
            r.resolve({"Fn::Sub": "${Names}"})
        with pytest.raises(TemplateError, match="Fn::Sub takes"):
            r.resolve({"Fn::Sub": 5})

    def test_join_select_split(self, r: Resolver) -> None:
        assert r.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}, 3]]}) == "a-dev-3"
        assert r.resolve({"Fn::Join": [",", {"Ref": "Names"}]}) == "x,y"
        assert r.resolve({"Fn::Join": ["", []]}) == ""
        assert r.resolve({"Fn::Select": [1, {"Ref": "Names"}]}) == "y"
        assert r.resolve({"Fn::Select": ["0", ["a", "b"]]}) == "a"
        assert r.resolve({"Fn::Split": ["/", "a/b/c"]}) == ["a", "b", "c"]
        assert r.resolve({"Fn::Select": [2, {"Fn::Split": [":", {"Fn::GetAtt": ["Fn", "Arn"]}]}]}) == "lambda"
        with pytest.raises(TemplateError, match="index 5 is out of range"):
            r.resolve({"Fn::Select": [5, ["a"]]})
        with pytest.raises(TemplateError, match="Fn::Join takes a list of 2"):
            r.resolve({"Fn::Join": ["-"]})

    def test_if_and_no_value(self, r: Resolver) -> None:
        value = {
            "A": {"Fn::If": ["IsDev", "dev-value", "prod-value"]},
            "B": {"Fn::If": ["IsDev", {"Ref": "AWS::NoValue"}, "kept"]},
            "L": ["one", {"Fn::If": ["IsDevOff", "two", {"Ref": "AWS::NoValue"}]}, "three"],
            # the branch not taken is never resolved (it names a resource that does not exist)
            "C": {"Fn::If": ["IsDev", "fine", {"Ref": "Pool"}]},
        }
        assert r.resolve(value) == {"A": "dev-value", "L": ["one", "three"], "C": "fine"}
        assert r.resolve({"Ref": "AWS::NoValue"}) is None
        assert repr(NO_VALUE) == "NO_VALUE" and not NO_VALUE
        with pytest.raises(TemplateError, match="unknown condition 'Nope'"):
            r.resolve({"Fn::If": ["Nope", 1, 2]})

    def test_find_in_map(self, r: Resolver) -> None:
        assert r.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}) == 256
        assert r.resolve({"Fn::FindInMap": ["Sizes", "dev", "Tags"]}) == ["a", "b"]
        assert r.resolve({"Fn::FindInMap": ["Sizes", "prod", "Memory", {"DefaultValue": 128}]}) == 128
        with pytest.raises(TemplateError, match=r"Mappings\.Sizes has no entry \['prod'\]\['Memory'\]"):
            r.resolve({"Fn::FindInMap": ["Sizes", "prod", "Memory"]})
        with pytest.raises(TemplateError, match="no mapping 'Nope'"):
            r.resolve({"Fn::FindInMap": ["Nope", "a", "b"]})

    def test_base64_azs_cidr_import(self, r: Resolver) -> None:
        assert (
            base64.b64decode(r.resolve({"Fn::Base64": {"Fn::Sub": "#!/bin/sh ${Stage}"}})) == b"#!/bin/sh dev"
        )
        assert r.resolve({"Fn::GetAZs": ""}) == ["us-east-1a", "us-east-1b", "us-east-1c"]
        assert r.resolve({"Fn::GetAZs": {"Ref": "AWS::Region"}})[0] == "us-east-1a"
        assert r.resolve({"Fn::GetAZs": "eu-west-1"})[2] == "eu-west-1c"
        assert r.resolve({"Fn::Cidr": ["10.0.0.0/16", 3, 8]}) == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
        with pytest.raises(TemplateError, match="cannot carve"):
            r.resolve({"Fn::Cidr": ["10.0.0.0/24", 3, 8]})
        with pytest.raises(TemplateError, match="ImportValue 'shared'"):
            r.resolve({"Fn::ImportValue": "shared"})
        imported = Resolver(tpl("Description: x\n"), imports={"shared": "vpc-1"})
        assert imported.resolve({"Fn::ImportValue": "shared"}) == "vpc-1"

    def test_length_and_to_json_string(self, r: Resolver) -> None:
        assert r.resolve({"Fn::Length": {"Ref": "Names"}}) == 2
        assert r.resolve({"Fn::ToJsonString": {"a": {"Ref": "Stage"}}}) == '{"a":"dev"}'

    def test_unsupported_function(self, r: Resolver) -> None:
        with pytest.raises(TemplateError, match="Fn::Transform is not supported offline"):
            r.resolve({"Fn::Transform": {"Name": "AWS::Include"}})

    def test_plain_values_and_condition_keys_untouched(self, r: Resolver) -> None:
        policy = {"Statement": [{"Effect": "Allow", "Condition": {"StringEquals": {"a": "b"}}}]}
        assert r.resolve(policy) == policy
        assert r.resolve({"Condition": "IsDev"}) == {"Condition": "IsDev"}
        assert r.resolve([1, 2.5, True, None, "s"]) == [1, 2.5, True, None, "s"]

    def test_errors_name_the_logical_id_and_place(self, r: Resolver) -> None:
        props = {"Environment": {"Variables": {"TOPIC": {"Ref": "Missing"}}}}
        with pytest.raises(TemplateError) as err:
            r.resolve(props, "Resources.Fn.Properties")
        message = str(err.value)
        assert "Resources.Fn.Properties.Environment.Variables.TOPIC" in message
        assert "Ref Missing" in message and "no such parameter" in message

        with pytest.raises(TemplateError, match="Ref Later: the resource has not been provisioned locally"):
            r.resolve({"Ref": "Later"})
        with pytest.raises(TemplateError, match="its condition IsDevOff is false"):
            r.resolve({"Ref": "Pool"})
        with pytest.raises(TemplateError, match=r"x\.Fn::GetAtt: cannot resolve Fn::GetAtt Fn\.Nope"):
            r.resolve({"x": {"Fn::GetAtt": ["Fn", "Nope"]}}, "Top")
        with pytest.raises(TemplateError, match=r"Fn::GetAtt Ghost\.Arn: no such"):
            r.resolve({"Fn::GetAtt": "Ghost.Arn"})
        with pytest.raises(TemplateError, match="Ref takes a logical id string"):
            r.resolve({"Ref": ["x"]})
        with pytest.raises(TemplateError, match=r"items\[1\]"):
            r.resolve(["ok", {"Ref": "Missing"}], "items")

    def test_explicit_conditions_and_parameters(self) -> None:
        t = tpl(RESOLVE_TEMPLATE)
        rr = Resolver(t, {"Stage": "prod"}, {"IsDev": True})
        assert rr.resolve({"Fn::If": ["IsDev", {"Ref": "Stage"}, "no"]}) == "prod"
        assert Resolver(t, {"Stage": "prod"}).conditions == {"IsDev": False}

    def test_resolver_helper_kwargs(self) -> None:
        rr = resolver(tpl("Description: x\n"), region="us-gov-west-1", partition="custom", url_suffix="x.y")
        assert rr.resolve({"Fn::Sub": "${AWS::Partition}/${AWS::URLSuffix}"}) == "custom/x.y"


# --------------------------------------------------------------------------------------
# Resources, functions, state machines
# --------------------------------------------------------------------------------------


class TestResources:
    def test_resources_of_type_and_conditions(self) -> None:
        t = tpl(
            """
Conditions:
  Yes1: !Equals [a, a]
  No1: !Equals [a, b]
Resources:
  A: {Type: AWS::S3::Bucket}
  B: {Type: AWS::S3::Bucket, Condition: Yes1}
  C: {Type: AWS::S3::Bucket, Condition: No1}
  D: {Type: AWS::SNS::Topic}
"""
        )
        conditions = evaluate_conditions(t)
        assert list(resources_of_type(t, "AWS::S3::Bucket", conditions)) == ["A", "B"]
        assert list(resources_of_type(t, "AWS::SQS::Queue", conditions)) == []
        assert resource_enabled("A", t["Resources"]["A"], {})
        with pytest.raises(TemplateError, match=r"Resources\.B\.Condition: unknown condition 'Yes1'"):
            resources_of_type(t, "AWS::S3::Bucket", {})

    def test_function_helpers(self) -> None:
        resource = {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Environment": {"Variables": {"A": "1"}},
                "Layers": ["l"],
                "Events": {
                    "One": {"Type": "HttpApi", "Properties": {"Path": "/x", "Method": "GET"}},
                    "Two": {"Type": "SQS"},
                },
            },
        }
        assert function_events(resource) == [
            ("One", "HttpApi", {"Path": "/x", "Method": "GET"}),
            ("Two", "SQS", {}),
        ]
        assert function_environment(resource) == {"A": "1"}
        assert function_layers(resource) == ["l"]
        bare: dict[str, Any] = {"Type": "AWS::Serverless::Function"}
        assert function_events(bare) == []
        assert function_environment(bare) == {}
        assert function_layers(bare) == []
        with pytest.raises(TemplateError, match=r"Events\.Bad needs a Type"):
            function_events({"Properties": {"Events": {"Bad": {"Properties": {}}}}})

    def test_s3_filter_rules(self) -> None:
        props = {
            "Filter": {
                "S3Key": {"Rules": [{"Name": "Prefix", "Value": "in/"}, {"Name": "suffix", "Value": ".png"}]}
            }
        }
        assert s3_filter_rules(props) == {"prefix": "in/", "suffix": ".png"}
        assert s3_filter_rules({}) == {}
        with pytest.raises(TemplateError, match="prefix or suffix"):
            s3_filter_rules({"Filter": {"S3Key": {"Rules": [{"Name": "middle", "Value": "x"}]}}})

    def test_definition_substitutions(self) -> None:
        text = '{"a": "${X}", "b": "${Y}", "n": ${N}, "q": "${Q}"}'
        out = apply_definition_substitutions(text, {"X": "arn:x", "N": 5, "Q": 'say "hi"'})
        assert json.loads(out) == {"a": "arn:x", "b": "${Y}", "n": 5, "q": 'say "hi"'}

    def test_inline_definition(self, tmp_path: Path) -> None:
        t = tpl("Resources:\n  Fn: {Type: X}\n")
        resource = {
            "Properties": {
                "Definition": {
                    "StartAt": "A",
                    "States": {"A": {"Type": "Task", "Resource": "${Fn}", "End": True}},
                },
                "DefinitionSubstitutions": {"Fn": {"Fn::GetAtt": ["Fn", "Arn"]}},
            }
        }
        definition = state_machine_definition(
            resource, tmp_path, Resolver(t, attrs={("Fn", "Arn"): "arn:fn"})
        )
        assert definition["States"]["A"]["Resource"] == "arn:fn"

    def test_yaml_definition_file_and_errors(self, tmp_path: Path) -> None:
        (tmp_path / "sm.asl.yaml").write_text(
            "StartAt: A\nStates:\n  A: {Type: Pass, Result: '${V}', End: true}\n"
        )
        t = tpl("Description: x\n")
        resource = {"Properties": {"DefinitionUri": "sm.asl.yaml", "DefinitionSubstitutions": {"V": "v"}}}
        assert state_machine_definition(resource, tmp_path, Resolver(t))["States"]["A"]["Result"] == "v"
        with pytest.raises(TemplateError, match="cannot read"):
            state_machine_definition({"Properties": {"DefinitionUri": "nope.json"}}, tmp_path, Resolver(t))
        with pytest.raises(TemplateError, match="needs Definition or a local DefinitionUri"):
            state_machine_definition(
                {"Properties": {"DefinitionUri": {"Bucket": "b"}}}, tmp_path, Resolver(t)
            )


# --------------------------------------------------------------------------------------
# The realistic SAM fixture
# --------------------------------------------------------------------------------------


def _fake_refs(logical_id: str) -> str:
    return f"local-{logical_id.lower()}"


def _fake_attrs(logical_id: str, attribute: str) -> str:
    if attribute != "Arn":
        raise KeyError(attribute)
    return f"arn:aws:lambda:us-east-1:123456789012:function:{_fake_refs(logical_id)}"


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return apply_globals(load_template(SAM_TEMPLATE))


class TestSamFixture:
    def test_loads_with_globals(self, sam: dict[str, Any]) -> None:
        assert sam["AWSTemplateFormatVersion"] == "2010-09-09"
        assert sam["Transform"] == "AWS::Serverless-2016-10-31"
        functions = resources_of_type(sam, "AWS::Serverless::Function", evaluate_conditions(sam))
        assert list(functions) == [
            "CreateJobFunction",
            "HealthFunction",
            "ProcessUploadFunction",
            "CleanupFunction",
        ]
        for props in (f["Properties"] for f in functions.values()):
            assert props["Runtime"] == "python3.12"
            assert props["Layers"][0] == {"Ref": "SharedLayer"}
            assert function_environment({"Properties": props})["TABLE_NAME"] == {"Ref": "JobsTable"}
        create = functions["CreateJobFunction"]["Properties"]
        assert create["Timeout"] == 29
        assert create["Environment"]["Variables"]["STAGE"] == {"Fn::Sub": "${Stage}-api"}
        assert create["Environment"]["Variables"]["STATE_MACHINE_ARN"] == {"Ref": "PipelineStateMachine"}
        health_layers = function_layers(functions["HealthFunction"])
        assert len(health_layers) == 2 and health_layers[0] == {"Ref": "SharedLayer"}
        assert functions["CleanupFunction"]["Properties"]["Timeout"] == 10

    def test_conditions(self, sam: dict[str, Any]) -> None:
        assert evaluate_conditions(sam) == {
            "CreateUserPool": True,
            "IsProd": False,
            "ProdWithUserPool": False,
        }
        external = evaluate_conditions(sam, {"JwtIssuer": "https://login.example.com", "Stage": "prod"})
        assert external == {"CreateUserPool": False, "IsProd": True, "ProdWithUserPool": False}
        assert evaluate_conditions(sam, {"Stage": "prod"})["ProdWithUserPool"] is True

    def test_user_pool_guarded_by_condition(self, sam: dict[str, Any]) -> None:
        default = evaluate_conditions(sam)
        assert list(resources_of_type(sam, "AWS::Cognito::UserPool", default)) == ["UserPool"]
        external = evaluate_conditions(sam, {"JwtIssuer": "https://login.example.com"})
        assert resources_of_type(sam, "AWS::Cognito::UserPool", external) == {}
        assert resources_of_type(sam, "AWS::SNS::Topic", default) == {}

    def test_http_api_issuer_follows_condition(self, sam: dict[str, Any]) -> None:
        api = sam["Resources"]["HttpApi"]["Properties"]
        assert api["CorsConfiguration"] == {"AllowOrigins": ["*"], "AllowMethods": ["GET", "POST"]}
        jwt = api["Auth"]["Authorizers"]["JwtAuthorizer"]["JwtConfiguration"]

        own = Resolver(sam, refs=_fake_refs, attrs=_fake_attrs)
        resolved = own.resolve(jwt, "Resources.HttpApi.Properties.Auth")
        assert resolved == {
            "issuer": "https://cognito-idp.us-east-1.amazonaws.com/local-userpool",
            "audience": ["local-userpoolclient"],
        }

        params = {"JwtIssuer": "https://login.example.com", "JwtAudience": "a1,a2"}
        external = Resolver(sam, params, refs={"HttpApi": "api"})  # no user pool provisioned
        assert external.resolve(jwt) == {"issuer": "https://login.example.com", "audience": ["a1", "a2"]}

    def test_function_events(self, sam: dict[str, Any]) -> None:
        res = sam["Resources"]
        create = function_events(res["CreateJobFunction"])
        assert [(n, t, p["Method"], p["Path"]) for n, t, p in create] == [
            ("CreateJob", "HttpApi", "POST", "/jobs"),
            ("GetJob", "HttpApi", "GET", "/jobs/{jobId}"),
        ]
        ((name, kind, props),) = function_events(res["HealthFunction"])
        assert (name, kind, props["Auth"]) == ("Health", "HttpApi", {"Authorizer": "NONE"})

        ((name, kind, props),) = function_events(res["ProcessUploadFunction"])
        assert (name, kind) == ("Uploaded", "S3")
        assert props["Bucket"] == {"Ref": "ImagesBucket"}
        assert props["Events"] == "s3:ObjectCreated:*"
        assert s3_filter_rules(props) == {"prefix": "uploads/", "suffix": ".jpg"}

        events = function_events(res["CleanupFunction"])
        assert [(n, t) for n, t, _ in events] == [("Sweep", "Schedule"), ("MonthlyReport", "ScheduleV2")]
        assert events[0][2]["Schedule"] == "rate(5 minutes)"
        assert events[1][2]["ScheduleExpression"] == "cron(0 3 1 * ? *)"

    def test_resolve_function_properties(self, sam: dict[str, Any]) -> None:
        r = Resolver(sam, refs=_fake_refs, attrs=_fake_attrs, region="eu-west-1", account_id="111122223333")
        props = r.resolve(sam["Resources"]["CreateJobFunction"]["Properties"], "Resources.CreateJobFunction")
        assert props["MemorySize"] == 512
        assert props["Environment"]["Variables"] == {
            "TABLE_NAME": "local-jobstable",
            "BUCKET_NAME": "local-imagesbucket",
            "STAGE": "dev-api",
            "POWERTOOLS_SERVICE_NAME": "image-studio",
            "STATE_MACHINE_ARN": "local-pipelinestatemachine",
        }
        health = r.resolve(sam["Resources"]["HealthFunction"]["Properties"]["Layers"])
        assert health[1].startswith("arn:aws:lambda:eu-west-1:017000801446:layer:")
        bucket = r.resolve(sam["Resources"]["ImagesBucket"]["Properties"])
        assert bucket == {"BucketName": "image-studio-dev-111122223333-eu-west-1"}
        prod = Resolver(sam, {"Stage": "prod"}, refs=_fake_refs)
        assert prod.resolve(sam["Resources"]["CleanupFunction"]["Properties"]["MemorySize"]) == 1024

    def test_outputs(self, sam: dict[str, Any]) -> None:
        r = Resolver(sam, refs=_fake_refs)
        assert r.resolve(sam["Outputs"]["ApiUrl"]["Value"]) == (
            "https://local-httpapi.execute-api.us-east-1.amazonaws.com/dev"
        )
        assert r.resolve(sam["Outputs"]["LogRetention"]["Value"]) == "14"

    def test_state_machine_definition(self, sam: dict[str, Any]) -> None:
        ((logical_id, machine),) = resources_of_type(
            sam, "AWS::Serverless::StateMachine", evaluate_conditions(sam)
        ).items()
        r = Resolver(sam, refs=_fake_refs, attrs=_fake_attrs)
        definition = state_machine_definition(machine, SAM_TEMPLATE.parent, r, logical_id=logical_id)
        states = definition["States"]
        assert states["Process"]["Parameters"]["FunctionName"] == _fake_attrs("ProcessUploadFunction", "Arn")
        assert states["Record"]["Parameters"]["TableName"] == "local-jobstable"
        assert states["Cleanup"]["Resource"] == _fake_attrs("CleanupFunction", "Arn")
        assert states["Cleanup"]["Comment"] == "${NotSubstituted} stays as written"

    def test_state_machine_unresolvable_substitution_names_place(self, sam: dict[str, Any]) -> None:
        machine = sam["Resources"]["PipelineStateMachine"]
        r = Resolver(sam, refs=_fake_refs)  # no attributes known
        with pytest.raises(TemplateError) as err:
            state_machine_definition(machine, SAM_TEMPLATE.parent, r, logical_id="PipelineStateMachine")
        assert "Resources.PipelineStateMachine.Properties.DefinitionSubstitutions.ProcessFunctionArn" in str(
            err.value
        )
        assert "ProcessUploadFunction.Arn" in str(err.value)

    @pytest.mark.skipif(
        not (Path(sys.executable).parent / "cfn-lint").exists() and shutil.which("cfn-lint") is None,
        reason="cfn-lint not installed",
    )
    def test_fixture_passes_cfn_lint(self) -> None:
        cfn_lint = Path(sys.executable).parent / "cfn-lint"
        command = str(cfn_lint) if cfn_lint.exists() else "cfn-lint"
        # cfn-lint exit codes are bit flags: 2 = errors, 4 = warnings, 8 = informational
        result = subprocess.run(
            [command, "--format", "parseable", str(SAM_TEMPLATE)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode in (0, 4, 8, 12), result.stdout + result.stderr
