"""Read a SAM/CloudFormation template and resolve its intrinsic functions offline.

Pure functions, no AWS calls. The local stack uses them to provision moto resources
from ``template.yaml`` so the emulated system can never drift from the deployed one:

* :func:`load_template` parses YAML (with the ``!Ref``/``!GetAtt``/``!Sub``... short tags)
  or JSON into the long form (``{"Ref": ...}``, ``{"Fn::GetAtt": [res, attr]}``...);
* :func:`apply_globals` merges the ``Globals`` section into the SAM resources;
* :func:`evaluate_conditions` computes the ``Conditions`` section;
* :class:`Resolver` resolves ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::If``... given
  what the provisioned resources return;
* :func:`resources_of_type`, :func:`function_events` and friends pick out what the local
  stack provisions.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import yaml

__all__ = [
    "GLOBALS_SECTIONS",
    "NO_VALUE",
    "PSEUDO_PARAMETERS",
    "Resolver",
    "TemplateError",
    "TemplateLoader",
    "apply_definition_substitutions",
    "apply_globals",
    "evaluate_conditions",
    "function_environment",
    "function_events",
    "function_layers",
    "is_intrinsic",
    "load_template",
    "parameter_values",
    "parse_template",
    "resource_enabled",
    "resources_of_type",
    "s3_filter_rules",
    "state_machine_definition",
]


class TemplateError(ValueError):
    """The template is malformed, or a value in it cannot be resolved offline."""


class _NoValue:
    """What ``Ref: AWS::NoValue`` resolves to: the enclosing key or list item is dropped."""

    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __bool__(self) -> bool:
        return False


NO_VALUE: Final = _NoValue()

PSEUDO_PARAMETERS: Final = (
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
)

# Globals section name -> the SAM resource type it applies to.
GLOBALS_SECTIONS: Final[Mapping[str, str]] = {
    "Function": "AWS::Serverless::Function",
    "Api": "AWS::Serverless::Api",
    "HttpApi": "AWS::Serverless::HttpApi",
    "SimpleTable": "AWS::Serverless::SimpleTable",
    "StateMachine": "AWS::Serverless::StateMachine",
    "LayerVersion": "AWS::Serverless::LayerVersion",
}

# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------

_SHORT_TAGS: Final[Mapping[str, str]] = {
    "Ref": "Ref",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
    "Sub": "Fn::Sub",
    "Join": "Fn::Join",
    "If": "Fn::If",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "Equals": "Fn::Equals",
    "Not": "Fn::Not",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "FindInMap": "Fn::FindInMap",
    "Base64": "Fn::Base64",
    "GetAZs": "Fn::GetAZs",
    "ImportValue": "Fn::ImportValue",
    "Cidr": "Fn::Cidr",
    "Transform": "Fn::Transform",
    "Length": "Fn::Length",
    "ToJsonString": "Fn::ToJsonString",
}

_TIMESTAMP_TAG: Final = "tag:yaml.org,2002:timestamp"


class TemplateLoader(yaml.SafeLoader):
    """A SafeLoader that understands CloudFormation's short tags.

    Differences from ``yaml.SafeLoader`` (which is left untouched):

    * ``!Ref X`` -> ``{"Ref": "X"}``, ``!GetAtt A.B`` -> ``{"Fn::GetAtt": ["A", "B"]}``,
      ``!Sub ...`` -> ``{"Fn::Sub": ...}`` and so on for every intrinsic function;
    * dates stay strings (``AWSTemplateFormatVersion: 2010-09-09`` is not a ``date``);
    * a key repeated in one mapping is an error, as in CloudFormation.
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r} (first defined{seen[key].start_mark})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _construct_short_tag(loader: TemplateLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _SHORT_TAGS.get(tag_suffix)
    if name is None:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"unknown tag !{tag_suffix}; CloudFormation short tags are "
            + ", ".join(f"!{t}" for t in _SHORT_TAGS),
            node.start_mark,
        )
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            resource, dot, attribute = str(value).partition(".")
            if not dot or not resource or not attribute:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"!GetAtt {value!r} must look like LogicalId.Attribute",
                    node.start_mark,
                )
            value = [resource, attribute]
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise yaml.constructor.ConstructorError(None, None, "unexpected node", node.start_mark)
    return {name: value}


TemplateLoader.add_multi_constructor("!", _construct_short_tag)


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=TemplateLoader)  # noqa: S506 - TemplateLoader is a SafeLoader


def parse_template(text: str, *, source: str = "<template>") -> dict[str, Any]:
    """Parse template text: JSON if it looks like JSON, YAML (with short tags) otherwise."""
    stripped = text.lstrip()
    loader: Callable[[str], Any] = json.loads if stripped.startswith("{") else _load_yaml
    try:
        data = loader(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise TemplateError(f"{source}: cannot parse template: {exc}") from exc
    if not isinstance(data, dict):
        raise TemplateError(f"{source}: a template must be a mapping at the top level")
    if not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{source}: the template has no Resources mapping")
    return data


def load_template(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON template, short tags turned into their long forms."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from exc
    return parse_template(text, source=str(path))


# --------------------------------------------------------------------------------------
# Globals
# --------------------------------------------------------------------------------------


def is_intrinsic(value: Any) -> bool:
    """True for a one-key mapping whose key is ``Ref``, ``Condition`` or ``Fn::...``."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::"))


def _merge_global(global_value: Any, local_value: Any) -> Any:
    """SAM's rules: maps merge (resource wins), lists concatenate (Globals first),
    anything else (scalars, intrinsic functions, mismatched kinds) takes the resource's value."""
    global_is_map = isinstance(global_value, dict) and not is_intrinsic(global_value)
    local_is_map = isinstance(local_value, dict) and not is_intrinsic(local_value)
    if global_is_map and local_is_map:
        merged = copy.deepcopy(global_value)
        for key, value in local_value.items():
            merged[key] = _merge_global(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return copy.deepcopy(global_value) + copy.deepcopy(local_value)
    return copy.deepcopy(local_value)


def apply_globals(template: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``template`` with its ``Globals`` merged into the SAM resources.

    ``Globals.Function`` goes into every ``AWS::Serverless::Function``, ``Globals.HttpApi``
    into every ``AWS::Serverless::HttpApi``, and so on (see :data:`GLOBALS_SECTIONS`).
    The ``Globals`` section itself is removed from the copy.
    """
    result = copy.deepcopy(dict(template))
    globals_section = result.pop("Globals", None) or {}
    if not isinstance(globals_section, dict):
        raise TemplateError("Globals must be a mapping")
    unknown = sorted(set(globals_section) - set(GLOBALS_SECTIONS))
    if unknown:
        raise TemplateError(
            f"Globals has unsupported section(s) {', '.join(unknown)}; "
            f"SAM supports {', '.join(GLOBALS_SECTIONS)}"
        )
    for section, global_properties in globals_section.items():
        if not isinstance(global_properties, dict):
            raise TemplateError(f"Globals.{section} must be a mapping")
        resource_type = GLOBALS_SECTIONS[section]
        for resource in (result.get("Resources") or {}).values():
            if isinstance(resource, dict) and resource.get("Type") == resource_type:
                resource["Properties"] = _merge_global(global_properties, resource.get("Properties") or {})
    return result


# --------------------------------------------------------------------------------------
# Parameters and conditions
# --------------------------------------------------------------------------------------


def _as_cfn_string(value: Any) -> str:
    """How CloudFormation sees a scalar: booleans are 'true'/'false', numbers their digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise TemplateError(f"expected a string, number or boolean, got {value!r}")


def parameter_values(
    template: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The value of every template parameter: ``overrides`` first, then ``Default``.

    Values become strings as in CloudFormation; ``List<...>`` and ``CommaDelimitedList``
    parameters become lists. Parameters with neither an override nor a default are left
    out (a ``Ref`` to one fails when resolved). Unknown override names and values outside
    ``AllowedValues`` raise :class:`TemplateError`.
    """
    declared = template.get("Parameters") or {}
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(
            f"parameter(s) {', '.join(unknown)} are not declared in the template's Parameters "
            f"(declared: {', '.join(sorted(declared)) or 'none'})"
        )
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        spec = spec or {}
        if name in overrides:
            raw = overrides[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            continue
        is_list = str(spec.get("Type", "String")).startswith(("List<", "CommaDelimitedList"))
        if is_list:
            items = raw if isinstance(raw, list) else _as_cfn_string(raw).split(",")
            value: Any = [_as_cfn_string(item).strip() for item in items] if items != [""] else []
            checked = value
        else:
            value = _as_cfn_string(raw)
            checked = [value]
        allowed = spec.get("AllowedValues")
        if allowed is not None:
            allowed_strings = [_as_cfn_string(a) for a in allowed]
            bad = [v for v in checked if v not in allowed_strings]
            if bad:
                raise TemplateError(
                    f"parameter {name}: {bad[0]!r} is not one of its AllowedValues {allowed_strings}"
                )
        values[name] = value
    return values


def evaluate_conditions(
    template: Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
    *,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    stack_name: str = "local",
) -> dict[str, bool]:
    """Evaluate every entry of the template's ``Conditions`` section.

    ``parameters`` are override values; declared defaults fill in the rest. Conditions
    may use ``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or``, ``Condition``, and
    ``Ref``/``Fn::FindInMap``/``Fn::Select``/``Fn::Join``... on parameters and pseudo
    parameters.
    """
    values = parameter_values(template, parameters)
    resolver = Resolver(
        template,
        values,
        conditions={},
        region=region,
        account_id=account_id,
        stack_name=stack_name,
    )
    definitions = template.get("Conditions") or {}
    results: dict[str, bool] = {}
    in_progress: list[str] = []

    def condition(name: Any, where: str) -> bool:
        if not isinstance(name, str) or name not in definitions:
            declared = ", ".join(map(str, definitions)) or "none"
            raise TemplateError(f"{where}: unknown condition {name!r} (declared: {declared})")
        if name in results:
            return results[name]
        if name in in_progress:
            raise TemplateError(f"Conditions: circular dependency {' -> '.join([*in_progress, name])}")
        in_progress.append(name)
        results[name] = evaluate(definitions[name], f"Conditions.{name}")
        in_progress.pop()
        return results[name]

    def operands(args: Any, function: str, where: str, count: tuple[int, int]) -> list[Any]:
        if not isinstance(args, list) or not count[0] <= len(args) <= count[1]:
            wanted = str(count[0]) if count[0] == count[1] else f"{count[0]} to {count[1]}"
            raise TemplateError(f"{where}: {function} takes a list of {wanted} items, got {args!r}")
        return args

    def evaluate(expr: Any, where: str) -> bool:
        if isinstance(expr, bool):
            return expr
        if is_intrinsic(expr):
            ((function, args),) = expr.items()
            if function == "Condition":
                return condition(args, where)
            if function == "Fn::Equals":
                left, right = operands(args, function, where, (2, 2))
                return _comparable(resolver.resolve(left, where)) == _comparable(
                    resolver.resolve(right, where)
                )
            if function == "Fn::Not":
                (operand,) = operands(args, function, where, (1, 1))
                return not evaluate(operand, where)
            if function == "Fn::And":
                return all(evaluate(item, where) for item in operands(args, function, where, (2, 10)))
            if function == "Fn::Or":
                return any(evaluate(item, where) for item in operands(args, function, where, (2, 10)))
        raise TemplateError(
            f"{where}: a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition, got {expr!r}"
        )

    for name in definitions:
        condition(name, "Conditions")
    return results


def _comparable(value: Any) -> Any:
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, bool | int | float):
        return _as_cfn_string(value)
    return value


def resource_enabled(logical_id: str, resource: Mapping[str, Any], conditions: Mapping[str, bool]) -> bool:
    """False when the resource has a ``Condition`` that evaluated to false."""
    name = resource.get("Condition")
    if name is None:
        return True
    if name not in conditions:
        raise TemplateError(f"Resources.{logical_id}.Condition: unknown condition {name!r}")
    return bool(conditions[name])


def resources_of_type(
    template: Mapping[str, Any], resource_type: str, conditions: Mapping[str, bool]
) -> dict[str, dict[str, Any]]:
    """Resources of ``resource_type`` (in template order) whose Condition, if any, holds."""
    found: dict[str, dict[str, Any]] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict):
            raise TemplateError(f"Resources.{logical_id} must be a mapping")
        if resource.get("Type") == resource_type and resource_enabled(logical_id, resource, conditions):
            found[logical_id] = resource
    return found


# --------------------------------------------------------------------------------------
# Resolving intrinsic functions
# --------------------------------------------------------------------------------------

RefSource = Mapping[str, Any] | Callable[[str], Any]
AttrSource = Mapping[tuple[str, str], Any] | Callable[[str, str], Any]

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _partition_for(region: str) -> tuple[str, str]:
    if region.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    return "aws", "amazonaws.com"


class Resolver:
    """Resolves intrinsic functions against parameters, conditions and provisioned resources.

    ``refs`` gives what ``Ref`` returns for a resource (a mapping, or a callable raising
    ``KeyError``); ``attrs`` what ``Fn::GetAtt`` returns (a mapping keyed by
    ``(logical_id, attribute)``, or a callable ``(logical_id, attribute)`` raising
    ``KeyError``). ``parameters`` are override values, declared defaults fill in the rest;
    ``conditions`` default to :func:`evaluate_conditions` of those parameters.
    ``imports`` serves ``Fn::ImportValue``.
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, Any] | None = None,
        conditions: Mapping[str, bool] | None = None,
        refs: RefSource | None = None,
        attrs: AttrSource | None = None,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        stack_name: str = "local",
        partition: str | None = None,
        url_suffix: str | None = None,
        imports: Mapping[str, Any] | None = None,
    ) -> None:
        self.template = template
        self.parameters: dict[str, Any] = parameter_values(template, parameters)
        if conditions is None:
            conditions = evaluate_conditions(
                template, parameters, region=region, account_id=account_id, stack_name=stack_name
            )
        self.conditions: dict[str, bool] = dict(conditions)
        self.refs: RefSource = refs if refs is not None else {}
        self.attrs: AttrSource = attrs if attrs is not None else {}
        self.imports: dict[str, Any] = dict(imports or {})
        default_partition, default_suffix = _partition_for(region)
        self.region = region
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::StackName": stack_name,
            "AWS::Partition": partition or default_partition,
            "AWS::URLSuffix": url_suffix or default_suffix,
            "AWS::StackId": (
                f"arn:{partition or default_partition}:cloudformation:{region}:{account_id}:"
                f"stack/{stack_name}/00000000-0000-0000-0000-000000000000"
            ),
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }

    # -- public -------------------------------------------------------------------------

    def resolve(self, value: Any, where: str = "template") -> Any:
        """``value`` with every intrinsic function resolved, recursively.

        ``where`` names the place in the template for error messages. Keys and list items
        that resolve to ``AWS::NoValue`` are dropped; a top-level ``AWS::NoValue`` gives None.
        """
        result = self._resolve(value, where)
        return None if result is NO_VALUE else result

    def ref(self, name: str, where: str = "template") -> Any:
        """What ``Ref: name`` resolves to."""
        return self._ref(name, where)

    def get_att(self, logical_id: str, attribute: str, where: str = "template") -> Any:
        """What ``Fn::GetAtt: [logical_id, attribute]`` resolves to."""
        return self._get_att(logical_id, attribute, where)

    # -- internals ----------------------------------------------------------------------

    def _resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, dict):
            if is_intrinsic(value) and next(iter(value)) != "Condition":
                ((function, args),) = value.items()
                return self._call(function, args, where)
            resolved: dict[Any, Any] = {}
            for key, item in value.items():
                result = self._resolve(item, f"{where}.{key}")
                if result is not NO_VALUE:
                    resolved[key] = result
            return resolved
        if isinstance(value, list):
            items = (self._resolve(item, f"{where}[{i}]") for i, item in enumerate(value))
            return [item for item in items if item is not NO_VALUE]
        return value

    def _call(self, function: str, args: Any, where: str) -> Any:
        handler = _FUNCTIONS.get(function)
        if handler is None:
            raise TemplateError(f"{where}: {function} is not supported offline")
        return handler(self, args, f"{where}.{function}" if function != "Ref" else where)

    def _lookup_ref(self, logical_id: str) -> Any:
        return self.refs(logical_id) if callable(self.refs) else self.refs[logical_id]

    def _lookup_attr(self, logical_id: str, attribute: str) -> Any:
        if callable(self.attrs):
            return self.attrs(logical_id, attribute)
        return self.attrs[(logical_id, attribute)]

    def _resource_problem(self, logical_id: str) -> str:
        resources = self.template.get("Resources") or {}
        resource = resources.get(logical_id)
        if resource is None:
            return "no such parameter, pseudo parameter or resource in the template"
        condition = resource.get("Condition") if isinstance(resource, dict) else None
        if condition is not None and not self.conditions.get(condition, True):
            return f"the resource is not created (its condition {condition} is false)"
        return "the resource has not been provisioned locally"

    def _ref(self, name: Any, where: str) -> Any:
        if not isinstance(name, str):
            raise TemplateError(f"{where}: Ref takes a logical id string, got {name!r}")
        if name in self.pseudo:
            return self.pseudo[name]
        if name.startswith("AWS::"):
            raise TemplateError(f"{where}: unknown pseudo parameter {name}")
        if name in self.parameters:
            return self.parameters[name]
        if name in (self.template.get("Parameters") or {}):
            raise TemplateError(f"{where}: cannot resolve Ref {name}: the parameter has no value or default")
        try:
            return self._lookup_ref(name)
        except KeyError:
            pass
        raise TemplateError(f"{where}: cannot resolve Ref {name}: {self._resource_problem(name)}")

    def _get_att(self, logical_id: Any, attribute: Any, where: str) -> Any:
        if not isinstance(logical_id, str) or not isinstance(attribute, str):
            raise TemplateError(
                f"{where}: Fn::GetAtt takes [LogicalId, Attribute], got {[logical_id, attribute]}"
            )
        try:
            return self._lookup_attr(logical_id, attribute)
        except KeyError:
            pass
        problem = self._resource_problem(logical_id)
        if logical_id in (self.template.get("Resources") or {}) and problem.endswith("locally"):
            problem = f"attribute {attribute} of {logical_id} is not known locally"
        raise TemplateError(f"{where}: cannot resolve Fn::GetAtt {logical_id}.{attribute}: {problem}")

    def _string(self, value: Any, where: str, what: str) -> str:
        resolved = self._resolve(value, where)
        if isinstance(resolved, bool | int | float | str):
            return _as_cfn_string(resolved)
        raise TemplateError(f"{where}: {what} must resolve to a string, got {resolved!r}")

    def _list(self, value: Any, where: str, what: str) -> list[Any]:
        resolved = self._resolve(value, where)
        if not isinstance(resolved, list):
            raise TemplateError(f"{where}: {what} must resolve to a list, got {resolved!r}")
        return resolved

    @staticmethod
    def _args(args: Any, where: str, function: str, count: int) -> list[Any]:
        if not isinstance(args, list) or len(args) != count:
            raise TemplateError(f"{where}: {function} takes a list of {count} items, got {args!r}")
        return args

    def _fn_ref(self, args: Any, where: str) -> Any:
        return self._ref(args, where)

    def _fn_get_att(self, args: Any, where: str) -> Any:
        if isinstance(args, str):
            logical_id, dot, attribute = args.partition(".")
            if not dot:
                raise TemplateError(f"{where}: Fn::GetAtt {args!r} must look like LogicalId.Attribute")
            return self._get_att(logical_id, attribute, where)
        logical_id, attribute = self._args(args, where, "Fn::GetAtt", 2)
        return self._get_att(logical_id, self._string(attribute, where, "the attribute name"), where)

    def _fn_sub(self, args: Any, where: str) -> str:
        variables: dict[str, Any] = {}
        if isinstance(args, list):
            text, raw_vars = self._args(args, where, "Fn::Sub", 2)
            if not isinstance(raw_vars, dict):
                raise TemplateError(f"{where}: Fn::Sub's second item must be a mapping of variables")
            variables = {k: self._resolve(v, f"{where}.{k}") for k, v in raw_vars.items()}
        else:
            text = args
        if not isinstance(text, str):
            raise TemplateError(f"{where}: Fn::Sub takes a string or [string, {{variables}}], got {args!r}")

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in variables:
                value = variables[name]
            elif "." in name and not name.startswith("AWS::"):
                logical_id, _, attribute = name.partition(".")
                value = self._get_att(logical_id, attribute, f"{where} (${{{name}}})")
            else:
                value = self._ref(name, f"{where} (${{{name}}})")
            if isinstance(value, bool | int | float | str):
                return _as_cfn_string(value)
            raise TemplateError(f"{where}: ${{{name}}} must resolve to a string, got {value!r}")

        return _SUB_VARIABLE.sub(substitute, text)

    def _fn_join(self, args: Any, where: str) -> str:
        delimiter, items = self._args(args, where, "Fn::Join", 2)
        parts = self._list(items, where, "Fn::Join's list")
        return self._string(delimiter, where, "Fn::Join's delimiter").join(
            self._string(part, where, "each Fn::Join item") for part in parts
        )

    def _fn_if(self, args: Any, where: str) -> Any:
        name, when_true, when_false = self._args(args, where, "Fn::If", 3)
        if not isinstance(name, str) or name not in self.conditions:
            raise TemplateError(f"{where}: unknown condition {name!r}")
        return self._resolve(when_true if self.conditions[name] else when_false, where)

    def _fn_select(self, args: Any, where: str) -> Any:
        index, items = self._args(args, where, "Fn::Select", 2)
        position = self._string(index, where, "Fn::Select's index")
        values = self._list(items, where, "Fn::Select's list")
        if not position.isdigit() or int(position) >= len(values):
            raise TemplateError(f"{where}: Fn::Select index {position} is out of range for {values!r}")
        return values[int(position)]

    def _fn_split(self, args: Any, where: str) -> list[str]:
        delimiter, text = self._args(args, where, "Fn::Split", 2)
        return self._string(text, where, "Fn::Split's source").split(
            self._string(delimiter, where, "Fn::Split's delimiter")
        )

    def _fn_find_in_map(self, args: Any, where: str) -> Any:
        if not isinstance(args, list) or len(args) not in (3, 4):
            raise TemplateError(
                f"{where}: Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey], got {args!r}"
            )
        map_name, top, second = (self._string(a, where, "each Fn::FindInMap key") for a in args[:3])
        mapping = (self.template.get("Mappings") or {}).get(map_name)
        entry = (mapping or {}).get(top)
        if isinstance(entry, dict) and second in entry:
            return copy.deepcopy(entry[second])
        if len(args) == 4 and isinstance(args[3], dict) and "DefaultValue" in args[3]:
            return self._resolve(args[3]["DefaultValue"], where)
        if mapping is None:
            raise TemplateError(f"{where}: no mapping {map_name!r} in Mappings")
        raise TemplateError(f"{where}: Mappings.{map_name} has no entry [{top!r}][{second!r}]")

    def _fn_base64(self, args: Any, where: str) -> str:
        return base64.b64encode(self._string(args, where, "Fn::Base64's value").encode()).decode()

    def _fn_get_azs(self, args: Any, where: str) -> list[str]:
        region = self._string(args, where, "Fn::GetAZs's region") or self.region
        return [f"{region}{zone}" for zone in "abc"]

    def _fn_import_value(self, args: Any, where: str) -> Any:
        name = self._string(args, where, "Fn::ImportValue's export name")
        if name not in self.imports:
            raise TemplateError(
                f"{where}: cannot resolve Fn::ImportValue {name!r}: no such export given locally"
            )
        return self.imports[name]

    def _fn_cidr(self, args: Any, where: str) -> list[str]:
        block, count, bits = self._args(args, where, "Fn::Cidr", 3)
        try:
            network = ipaddress.ip_network(self._string(block, where, "Fn::Cidr's block"), strict=False)
            how_many = int(self._string(count, where, "Fn::Cidr's count"))
            host_bits = int(self._string(bits, where, "Fn::Cidr's cidrBits"))
            subnets = network.subnets(new_prefix=network.max_prefixlen - host_bits)
            result = [str(subnet) for _, subnet in zip(range(how_many), subnets, strict=False)]
        except ValueError as exc:
            raise TemplateError(f"{where}: invalid Fn::Cidr {args!r}: {exc}") from exc
        if len(result) < how_many:
            raise TemplateError(f"{where}: Fn::Cidr cannot carve {how_many} subnets from {network}")
        return result

    def _fn_length(self, args: Any, where: str) -> int:
        return len(self._list(args, where, "Fn::Length's value"))

    def _fn_to_json_string(self, args: Any, where: str) -> str:
        return json.dumps(self._resolve(args, where), separators=(",", ":"))


_FUNCTIONS: Final[Mapping[str, Callable[[Resolver, Any, str], Any]]] = {
    "Ref": Resolver._fn_ref,
    "Fn::GetAtt": Resolver._fn_get_att,
    "Fn::Sub": Resolver._fn_sub,
    "Fn::Join": Resolver._fn_join,
    "Fn::If": Resolver._fn_if,
    "Fn::Select": Resolver._fn_select,
    "Fn::Split": Resolver._fn_split,
    "Fn::FindInMap": Resolver._fn_find_in_map,
    "Fn::Base64": Resolver._fn_base64,
    "Fn::GetAZs": Resolver._fn_get_azs,
    "Fn::ImportValue": Resolver._fn_import_value,
    "Fn::Cidr": Resolver._fn_cidr,
    "Fn::Length": Resolver._fn_length,
    "Fn::ToJsonString": Resolver._fn_to_json_string,
}


# --------------------------------------------------------------------------------------
# What the local stack needs from SAM resources
# --------------------------------------------------------------------------------------


def _properties(resource: Mapping[str, Any]) -> dict[str, Any]:
    properties = resource.get("Properties") or {}
    if not isinstance(properties, dict):
        raise TemplateError("a resource's Properties must be a mapping")
    return properties


def function_events(resource: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """``(name, Type, Properties)`` for each entry of a SAM function's ``Events``, in order."""
    events = _properties(resource).get("Events") or {}
    if not isinstance(events, dict):
        raise TemplateError("a function's Events must be a mapping of name -> {Type, Properties}")
    found: list[tuple[str, str, dict[str, Any]]] = []
    for name, event in events.items():
        if not isinstance(event, dict) or not isinstance(event.get("Type"), str):
            raise TemplateError(f"Events.{name} needs a Type (HttpApi, S3, Schedule, ...)")
        found.append((str(name), event["Type"], dict(event.get("Properties") or {})))
    return found


def function_environment(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A SAM function's ``Environment.Variables`` (unresolved; apply globals first)."""
    environment = _properties(resource).get("Environment") or {}
    return dict(environment.get("Variables") or {}) if isinstance(environment, dict) else {}


def function_layers(resource: Mapping[str, Any]) -> list[Any]:
    """A SAM function's ``Layers`` (unresolved; apply globals first)."""
    return list(_properties(resource).get("Layers") or [])


def s3_filter_rules(event_properties: Mapping[str, Any]) -> dict[str, str]:
    """An S3 event's key filter as ``{"prefix": ..., "suffix": ...}`` (names lower-cased)."""
    rules = ((event_properties.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
    result: dict[str, str] = {}
    for rule in rules:
        name = str(rule.get("Name", "")).lower()
        if name not in ("prefix", "suffix"):
            raise TemplateError(f"S3 filter rule names are prefix or suffix, got {rule.get('Name')!r}")
        result[name] = rule.get("Value", "")
    return result


def apply_definition_substitutions(text: str, substitutions: Mapping[str, Any]) -> str:
    """Replace ``${Name}`` in an ASL definition by the resolved ``DefinitionSubstitutions``.

    Placeholders without a substitution are left as they are (like Step Functions).
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in substitutions:
            value = substitutions[name]
            # Placeholders sit inside JSON strings: escape what would break the literal.
            return json.dumps(value)[1:-1] if isinstance(value, str) else json.dumps(value)
        return match.group(0)

    return _SUB_VARIABLE.sub(replace, text)


def state_machine_definition(
    resource: Mapping[str, Any], base_dir: str | Path, resolver: Resolver, *, logical_id: str = "StateMachine"
) -> dict[str, Any]:
    """The ASL definition of an ``AWS::Serverless::StateMachine``, substitutions applied.

    Reads ``DefinitionUri`` (a local JSON or YAML file, relative to ``base_dir``) or takes
    the inline ``Definition``; ``DefinitionSubstitutions`` are resolved with ``resolver``.
    """
    properties = _properties(resource)
    where = f"Resources.{logical_id}.Properties"
    substitutions = resolver.resolve(
        properties.get("DefinitionSubstitutions") or {}, f"{where}.DefinitionSubstitutions"
    )
    if "Definition" in properties:
        text = json.dumps(resolver.resolve(properties["Definition"], f"{where}.Definition"))
    else:
        uri = properties.get("DefinitionUri")
        if not isinstance(uri, str):
            raise TemplateError(f"{where}: needs Definition or a local DefinitionUri path")
        path = Path(base_dir) / uri
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TemplateError(f"{where}.DefinitionUri: cannot read {path}: {exc}") from exc
        if path.suffix.lower() in (".yaml", ".yml"):
            text = json.dumps(yaml.safe_load(text))
    try:
        definition = json.loads(apply_definition_substitutions(text, substitutions))
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{where}: the definition is not valid JSON after substitutions: {exc}") from exc
    if not isinstance(definition, dict):
        raise TemplateError(f"{where}: the definition must be a JSON object")
    return definition
