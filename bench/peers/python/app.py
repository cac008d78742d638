"""GET /products/{id} as a merchant would write it in Python: boto3 under awslambdaric.

Shaped as the AWS serverless samples write a handler: the client and table are made once at
module load (the init phase), the handler reads the product item and its variants' stock items
and answers API Gateway (HTTP API, payload 2.0). It reads nanoshop's catalog table layout
(shared/schema/src/catalog.rs) and answers the JSON shape of nanoshop's catalog function.
"""

import json
import os
from decimal import Decimal

import boto3

dynamodb = boto3.resource("dynamodb")
table = dynamodb.Table(os.environ["CATALOG_TABLE"])
IMAGE_BASE_URL = os.environ.get("IMAGE_BASE_URL", "")


def lambda_handler(event, context):
    product_id = (event.get("pathParameters") or {}).get("id", "")
    item = table.get_item(Key={"pk": f"PRODUCT#{product_id}", "sk": "PRODUCT"}).get("Item")
    if item is None:
        return not_found()
    product = json.loads(item["doc"])
    if product["status"] != "active":
        return not_found()

    skus = [variant["sku"] for variant in product["variants"]]
    stock = {}
    if skus:
        keys = [{"pk": f"STOCK#{sku}", "sk": "STOCK"} for sku in skus]
        found = dynamodb.batch_get_item(RequestItems={table.name: {"Keys": keys}})
        for level in found["Responses"].get(table.name, []):
            sku = level["pk"].removeprefix("STOCK#")
            stock[sku] = max(int(level.get("on_hand", Decimal(0)) - level.get("reserved", Decimal(0))), 0)

    body = {
        "id": product["id"],
        "slug": product["slug"],
        "title": product["title"],
        "description": product["description"],
        "status": product["status"],
        "categories": product["categories"],
        "tags": product["tags"],
        "images": [
            {"id": image["id"], "url": f"{IMAGE_BASE_URL}/{image['key']}", "alt": image.get("alt")}
            for image in product["images"]
        ],
        "options": product["options"],
        "variants": [
            {
                "sku": variant["sku"],
                "title": variant["title"],
                "options": variant["options"],
                "prices": variant["prices"],
                "weight_grams": variant.get("weight_grams"),
                "available": stock.get(variant["sku"], 0),
            }
            for variant in product["variants"]
        ],
        "version": product["version"],
        "created_at": product["created_at"],
        "updated_at": product["updated_at"],
    }
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "etag": f'"{product["version"]}"'},
        "body": json.dumps(body),
    }


def not_found():
    problem = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "product not found"}
    return {
        "statusCode": 404,
        "headers": {"content-type": "application/problem+json"},
        "body": json.dumps(problem),
    }
