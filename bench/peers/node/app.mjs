// GET /products/{id} as a merchant would write it in Node.js: the AWS SDK v3 document client
// under aws-lambda-ric.
//
// Shaped as the AWS serverless samples write a handler: the client is made once at module load
// (the init phase), the handler reads the product item and its variants' stock items and answers
// API Gateway (HTTP API, payload 2.0). It reads nanoshop's catalog table layout
// (shared/schema/src/catalog.rs) and answers the JSON shape of nanoshop's catalog function.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const tableName = process.env.CATALOG_TABLE;
const imageBaseUrl = process.env.IMAGE_BASE_URL ?? "";

export const handler = async (event) => {
  const productId = event.pathParameters?.id ?? "";
  const { Item: item } = await client.send(
    new GetCommand({ TableName: tableName, Key: { pk: `PRODUCT#${productId}`, sk: "PRODUCT" } }),
  );
  if (!item) return notFound();
  const product = JSON.parse(item.doc);
  if (product.status !== "active") return notFound();

  const skus = product.variants.map((variant) => variant.sku);
  const stock = new Map();
  if (skus.length > 0) {
    const keys = skus.map((sku) => ({ pk: `STOCK#${sku}`, sk: "STOCK" }));
    const found = await client.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys } } }));
    for (const level of found.Responses?.[tableName] ?? []) {
      stock.set(level.pk.slice("STOCK#".length), Math.max((level.on_hand ?? 0) - (level.reserved ?? 0), 0));
    }
  }

  const body = {
    id: product.id,
    slug: product.slug,
    title: product.title,
    description: product.description,
    status: product.status,
    categories: product.categories,
    tags: product.tags,
    images: product.images.map((image) => ({ id: image.id, url: `${imageBaseUrl}/${image.key}`, alt: image.alt ?? null })),
    options: product.options,
    variants: product.variants.map((variant) => ({
      sku: variant.sku,
      title: variant.title,
      options: variant.options,
      prices: variant.prices,
      weight_grams: variant.weight_grams ?? null,
      available: stock.get(variant.sku) ?? 0,
    })),
    version: product.version,
    created_at: product.created_at,
    updated_at: product.updated_at,
  };
  return {
    statusCode: 200,
    headers: { "content-type": "application/json", etag: `"${product.version}"` },
    body: JSON.stringify(body),
  };
};

const notFound = () => ({
  statusCode: 404,
  headers: { "content-type": "application/problem+json" },
  body: JSON.stringify({ type: "about:blank", title: "Not Found", status: 404, detail: "product not found" }),
});
