WITH "decoded" AS (
  SELECT TRY(decode("payload")) AS "_text", "payload" AS "_raw", "topic" AS "_topic", "partition" AS "_partition", "offset" AS "_offset", "ingested_at" AS "_ingested_at"
  FROM "src"
), "parsed" AS (
  SELECT *, CASE WHEN json_valid("_text") THEN json_transform("_text", '{"event_id":"VARCHAR","user_id":"VARCHAR","event_type":"VARCHAR","amount":"DECIMAL(18,2)","timestamp":"TIMESTAMPTZ"}') END AS "_j"
  FROM "decoded"
), "enriched" AS (
  SELECT p.*, r0."country", r0."plan", (r0."_k" IS NOT NULL) AS "_m0"
  FROM "parsed" p
  LEFT JOIN (
    SELECT TRY_CAST("user_id" AS VARCHAR) AS "_k", "country", "plan"
    FROM "ref_users"
    QUALIFY row_number() OVER (PARTITION BY TRY_CAST("user_id" AS VARCHAR) ORDER BY "country", "plan") = 1
  ) r0 ON r0."_k" = p."_j"."user_id"
), "checked" AS (
  SELECT *, CASE WHEN "_text" IS NULL THEN 'payload: not valid UTF-8' WHEN "_j" IS NULL THEN 'payload: not valid JSON' ELSE nullif(concat_ws('; ',
    CASE WHEN "_j"."event_id" IS NOT NULL THEN NULL WHEN NOT contains("_text", '"event_id"') THEN 'event_id: missing' WHEN coalesce(json_type("_text", '$."event_id"'), 'NULL') = 'NULL' THEN 'event_id: missing' ELSE 'event_id: ' || CAST(json_extract("_text", '$."event_id"') AS VARCHAR) || ' is not a string' END,
    CASE WHEN "_j"."user_id" IS NOT NULL THEN NULL WHEN NOT contains("_text", '"user_id"') THEN 'user_id: missing' WHEN coalesce(json_type("_text", '$."user_id"'), 'NULL') = 'NULL' THEN 'user_id: missing' ELSE 'user_id: ' || CAST(json_extract("_text", '$."user_id"') AS VARCHAR) || ' is not a string' END,
    CASE WHEN "_j"."event_type" IS NOT NULL THEN CASE WHEN "_j"."event_type" NOT IN ('page_view', 'click', 'purchase') THEN 'event_type: ' || CAST("_j"."event_type" AS VARCHAR) || ' is not one of page_view, click, purchase' END WHEN NOT contains("_text", '"event_type"') THEN 'event_type: missing' WHEN coalesce(json_type("_text", '$."event_type"'), 'NULL') = 'NULL' THEN 'event_type: missing' ELSE 'event_type: ' || CAST(json_extract("_text", '$."event_type"') AS VARCHAR) || ' is not a string' END,
    CASE WHEN "_j"."amount" IS NOT NULL THEN CASE WHEN "_j"."amount" < 0 THEN 'amount: ' || CAST("_j"."amount" AS VARCHAR) || ' is below the minimum 0' WHEN "_j"."amount" > 1000 THEN 'amount: ' || CAST("_j"."amount" AS VARCHAR) || ' is above the maximum 1000' END WHEN NOT contains("_text", '"amount"') THEN NULL WHEN coalesce(json_type("_text", '$."amount"'), 'NULL') = 'NULL' THEN NULL ELSE 'amount: ' || CAST(json_extract("_text", '$."amount"') AS VARCHAR) || ' is not a decimal(18,2)' END,
    CASE WHEN "_j"."timestamp" IS NOT NULL AND isfinite("_j"."timestamp") THEN NULL WHEN NOT contains("_text", '"timestamp"') THEN 'timestamp: missing' WHEN coalesce(json_type("_text", '$."timestamp"'), 'NULL') = 'NULL' THEN 'timestamp: missing' ELSE 'timestamp: ' || CAST(json_extract("_text", '$."timestamp"') AS VARCHAR) || ' is not a timestamp' END
  ), '') END AS "_reason"
  FROM "enriched"
)
SELECT
  "_j"."event_id" AS "event_id",
  "_j"."user_id" AS "user_id",
  "_j"."event_type" AS "event_type",
  "_j"."amount" AS "amount",
  "_j"."timestamp" AS "timestamp",
  "country",
  "plan",
  "_ingested_at", "_topic", "_partition", "_offset",
  CAST("_j"."timestamp" AT TIME ZONE 'UTC' AS DATE) AS "event_date",
  CAST(hour("_j"."timestamp" AT TIME ZONE 'UTC') AS INTEGER) AS "event_hour",
  "_reason",
  CASE WHEN "_reason" IS NOT NULL THEN "_raw" END AS "_payload",
  row_number() OVER (PARTITION BY ("_reason" IS NULL), "_j"."event_id" ORDER BY "_j"."timestamp", "_ingested_at", coalesce("_topic", ''), "_partition", "_offset") AS "_rank"
FROM "checked"
