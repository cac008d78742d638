#!/usr/bin/env python3
"""infra/template.yaml as `sam deploy` hands it to CloudFormation, offline.

Reads a JSON object on stdin, {"<set name>": {"<parameter>": "<value>", ...}, ...}, and writes
{"<set name>": <the transformed template>, ...} on stdout: each parameter set through AWS's own
SAM translator (samtranslator, the library SAM CLI and CloudFormation's
AWS::Serverless-2016-10-31 transform run), after what `sam package` does first (each function's
CodeUri becomes the S3 object it uploaded). Conditions are left for the caller to evaluate, as
CloudFormation does after the transform: tests/e2e/deployed/stack.rs.

Run with the tools venv's Python (scripts/services.sh tools installs SAM CLI, which brings
samtranslator). No AWS account is needed: the region is fixed, and no managed policy is looked up
by name (the template names none).
"""

import json
import os
import sys

# The transform reads the region from the environment (sam deploy: the profile's region).
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")

from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "infra", "template.yaml")


class NoManagedPolicies:
    """The managed-policy lookup SAM makes for policies named in `Policies` (the template names
    none; an empty map makes such a name fail the transform instead of calling IAM)."""

    def load(self):
        return {}


def packaged(template):
    """What `sam package` uploads and rewrites: each function's code as an S3 object."""
    for name, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://nanoshop-artifacts/{name}.zip"
    return template


def main():
    with open(TEMPLATE, encoding="utf-8") as f:
        text = f.read()
    parameter_sets = json.load(sys.stdin)
    out = {}
    for name, parameters in parameter_sets.items():
        # A fresh parse each time: the translator changes the document it is given.
        out[name] = transform(packaged(yaml_parse(text)), dict(parameters), NoManagedPolicies())
    json.dump(out, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
