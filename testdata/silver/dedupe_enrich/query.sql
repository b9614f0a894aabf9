WITH "decoded" AS (
  SELECT TRY(decode("payload")) AS "_text", "payload" AS "_raw", "topic" AS "_topic", "partition" AS "_partition", "offset" AS "_offset", "ingested_at" AS "_ingested_at"
  FROM "src"
), "parsed" AS (
  SELECT *, CASE WHEN json_valid("_text") THEN json_transform("_text", '{"id":"VARCHAR","accountId":"BIGINT","level":"BIGINT","ts":"TIMESTAMPTZ"}') END AS "_j"
  FROM "decoded"
), "enriched" AS (
  SELECT p.*, r0."plan", (r0."_k" IS NOT NULL) AS "_m0"
  FROM "parsed" p
  LEFT JOIN (
    SELECT TRY_CAST("account_id" AS BIGINT) AS "_k", "plan"
    FROM "ref_plans"
    QUALIFY row_number() OVER (PARTITION BY TRY_CAST("account_id" AS BIGINT) ORDER BY "plan") = 1
  ) r0 ON r0."_k" = p."_j"."accountId"
), "checked" AS (
  SELECT *, CASE WHEN "_text" IS NULL THEN 'payload: not valid UTF-8' WHEN "_j" IS NULL THEN 'payload: not valid JSON' ELSE nullif(concat_ws('; ',
    CASE WHEN "_j"."id" IS NOT NULL THEN CASE WHEN NOT regexp_matches("_j"."id", '^c[0-9]+$') THEN 'id: ' || CAST("_j"."id" AS VARCHAR) || ' does not match ^c[0-9]+$' END WHEN NOT contains("_text", '"id"') THEN 'id: missing' WHEN coalesce(json_type("_text", '$."id"'), 'NULL') = 'NULL' THEN 'id: missing' ELSE 'id: ' || CAST(json_extract("_text", '$."id"') AS VARCHAR) || ' is not a string' END,
    CASE WHEN "_j"."accountId" IS NOT NULL THEN NULL WHEN NOT contains("_text", '"accountId"') THEN 'account: missing' WHEN coalesce(json_type("_text", '$."accountId"'), 'NULL') = 'NULL' THEN 'account: missing' ELSE 'account: ' || CAST(json_extract("_text", '$."accountId"') AS VARCHAR) || ' is not a int' END,
    CASE WHEN "_j"."level" IS NOT NULL THEN CASE WHEN "_j"."level" NOT IN (1, 2, 3) THEN 'level: ' || CAST("_j"."level" AS VARCHAR) || ' is not one of 1, 2, 3' END WHEN NOT contains("_text", '"level"') THEN NULL WHEN coalesce(json_type("_text", '$."level"'), 'NULL') = 'NULL' THEN NULL ELSE 'level: ' || CAST(json_extract("_text", '$."level"') AS VARCHAR) || ' is not a int' END,
    CASE WHEN "_j"."ts" IS NOT NULL AND isfinite("_j"."ts") THEN NULL WHEN NOT contains("_text", '"ts"') THEN 'at: missing' WHEN coalesce(json_type("_text", '$."ts"'), 'NULL') = 'NULL' THEN 'at: missing' ELSE 'at: ' || CAST(json_extract("_text", '$."ts"') AS VARCHAR) || ' is not a timestamp' END,
    CASE WHEN "_j"."accountId" IS NOT NULL AND NOT "_m0" THEN 'account: ' || CAST("_j"."accountId" AS VARCHAR) || ' not found in reference table plans' END
  ), '') END AS "_reason"
  FROM "enriched"
)
SELECT
  "_j"."id" AS "id",
  "_j"."accountId" AS "account",
  "_j"."level" AS "level",
  "_j"."ts" AS "at",
  "plan",
  "_ingested_at", "_topic", "_partition", "_offset",
  CAST("_j"."ts" AT TIME ZONE 'UTC' AS DATE) AS "event_date",
  CAST(hour("_j"."ts" AT TIME ZONE 'UTC') AS INTEGER) AS "event_hour",
  "_reason",
  CASE WHEN "_reason" IS NOT NULL THEN "_raw" END AS "_payload",
  row_number() OVER (PARTITION BY ("_reason" IS NULL), "_j"."id" ORDER BY "_j"."ts", "_ingested_at", coalesce("_topic", ''), "_partition", "_offset") AS "_rank"
FROM "checked"
