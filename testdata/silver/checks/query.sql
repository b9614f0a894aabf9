WITH "decoded" AS (
  SELECT TRY(decode("payload")) AS "_text", "payload" AS "_raw", "topic" AS "_topic", "partition" AS "_partition", "offset" AS "_offset", "ingested_at" AS "_ingested_at"
  FROM "src"
), "strict" AS (
  SELECT *, CASE WHEN lakectl_json_strict("_text") THEN NULL ELSE lakectl_json_problem("_text") END AS "_problem"
  FROM "decoded"
), "parsed" AS (
  SELECT *, CASE WHEN "_problem" IS NULL THEN json_transform("_text", '{"event_id":"JSON","user_id":"JSON","event_type":"JSON","amount":"JSON","timestamp":"JSON"}') END AS "_j"
  FROM "strict"
), "typed" AS (
  SELECT *, json_type("_j"."event_id") AS "_t_event_id", json_type("_j"."user_id") AS "_t_user_id", json_type("_j"."event_type") AS "_t_event_type", json_type("_j"."amount") AS "_t_amount", json_type("_j"."timestamp") AS "_t_timestamp"
  FROM "parsed"
), "converted" AS (
  SELECT *,
    CASE WHEN "_t_event_id" = 'VARCHAR' THEN "_j"."event_id" ->> '$' END AS "_v_event_id",
    CASE WHEN "_t_user_id" = 'VARCHAR' THEN "_j"."user_id" ->> '$' END AS "_v_user_id",
    CASE WHEN "_t_event_type" = 'VARCHAR' THEN "_j"."event_type" ->> '$' END AS "_v_event_type",
    CASE WHEN "_t_amount" IN ('BIGINT', 'UBIGINT') THEN TRY_CAST("_j"."amount" AS DECIMAL(18,2)) WHEN "_t_amount" = 'DOUBLE' AND abs(TRY_CAST("_j"."amount" AS DOUBLE)) < 1e+13 AND CAST(TRY_CAST(TRY_CAST("_j"."amount" AS DOUBLE) AS DECIMAL(18,2)) AS DOUBLE) = TRY_CAST("_j"."amount" AS DOUBLE) THEN CAST(TRY_CAST("_j"."amount" AS DOUBLE) AS DECIMAL(18,2)) WHEN "_t_amount" = 'VARCHAR' AND regexp_full_match("_j"."amount" ->> '$', '[+-]?[0-9]+(\.[0-9]+)?') AND CASE WHEN strpos("_j"."amount" ->> '$', '.') > 0 THEN length(rtrim("_j"."amount" ->> '$', '0')) - strpos("_j"."amount" ->> '$', '.') ELSE 0 END <= 2 THEN TRY_CAST("_j"."amount" ->> '$' AS DECIMAL(18,2)) END AS "_v_amount",
    CASE WHEN "_t_timestamp" = 'VARCHAR' AND regexp_full_match("_j"."timestamp" ->> '$', '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6}0*)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])') AND isfinite(TRY_CAST(upper("_j"."timestamp" ->> '$') AS TIMESTAMPTZ)) THEN TRY_CAST(upper("_j"."timestamp" ->> '$') AS TIMESTAMPTZ) END AS "_v_timestamp"
  FROM "typed"
), "enriched" AS (
  SELECT p.*, r0."country" AS "country", r0."plan" AS "plan", (r0."_k" IS NOT NULL) AS "_m0"
  FROM "converted" p
  LEFT JOIN (
    SELECT TRY_CAST("user_id" AS VARCHAR) AS "_k", "country", "plan"
    FROM "ref_users" WHERE "_valid_to" IS NULL
    QUALIFY row_number() OVER (PARTITION BY TRY_CAST("user_id" AS VARCHAR) ORDER BY "country", "plan") = 1
  ) r0 ON r0."_k" = p."_v_user_id"
), "checked" AS (
  SELECT *, CASE WHEN "_text" IS NULL THEN 'payload: not valid UTF-8' WHEN "_problem" IS NOT NULL THEN 'payload: ' || "_problem" ELSE nullif(concat_ws('; ',
    CASE WHEN "_v_event_id" IS NOT NULL THEN NULL WHEN "_t_event_id" IS NULL THEN 'event_id: missing' ELSE 'event_id: ' || CAST("_j"."event_id" AS VARCHAR) || ' is not a string' END,
    CASE WHEN "_v_user_id" IS NOT NULL THEN NULL WHEN "_t_user_id" IS NULL THEN 'user_id: missing' ELSE 'user_id: ' || CAST("_j"."user_id" AS VARCHAR) || ' is not a string' END,
    CASE WHEN "_v_event_type" IS NOT NULL THEN CASE WHEN "_v_event_type" NOT IN ('page_view', 'click', 'purchase') THEN 'event_type: ' || CAST(to_json("_v_event_type") AS VARCHAR) || ' is not one of "page_view", "click", "purchase"' END WHEN "_t_event_type" IS NULL THEN 'event_type: missing' ELSE 'event_type: ' || CAST("_j"."event_type" AS VARCHAR) || ' is not a string' END,
    CASE WHEN "_v_amount" IS NOT NULL THEN CASE WHEN "_v_amount" < 0 THEN 'amount: ' || CAST("_v_amount" AS VARCHAR) || ' is below the minimum 0' WHEN "_v_amount" > 1000 THEN 'amount: ' || CAST("_v_amount" AS VARCHAR) || ' is above the maximum 1000' END WHEN "_t_amount" IS NULL THEN NULL ELSE 'amount: ' || CAST("_j"."amount" AS VARCHAR) || CASE WHEN "_t_amount" IN ('BIGINT', 'UBIGINT') THEN ' is out of range for decimal(18,2)' WHEN "_t_amount" = 'DOUBLE' AND TRY_CAST(TRY_CAST("_j"."amount" AS DOUBLE) AS DECIMAL(18,2)) IS NULL THEN ' is out of range for decimal(18,2)' WHEN "_t_amount" = 'DOUBLE' AND abs(TRY_CAST("_j"."amount" AS DOUBLE)) >= 1e+13 THEN ' has more digits than a JSON number holds exactly; send it as a string' WHEN "_t_amount" = 'DOUBLE' THEN ' has more than 2 decimal places' WHEN "_t_amount" = 'VARCHAR' AND regexp_full_match("_j"."amount" ->> '$', '[+-]?[0-9]+(\.[0-9]+)?') AND CASE WHEN strpos("_j"."amount" ->> '$', '.') > 0 THEN length(rtrim("_j"."amount" ->> '$', '0')) - strpos("_j"."amount" ->> '$', '.') ELSE 0 END > 2 THEN ' has more than 2 decimal places' WHEN "_t_amount" = 'VARCHAR' AND regexp_full_match("_j"."amount" ->> '$', '[+-]?[0-9]+(\.[0-9]+)?') THEN ' is out of range for decimal(18,2)' ELSE ' is not a decimal(18,2)' END END,
    CASE WHEN "_v_timestamp" IS NOT NULL THEN NULL WHEN "_t_timestamp" IS NULL THEN 'timestamp: missing' ELSE 'timestamp: ' || CAST("_j"."timestamp" AS VARCHAR) || CASE WHEN "_t_timestamp" <> 'VARCHAR' THEN ' is not a timestamp' WHEN regexp_full_match("_j"."timestamp" ->> '$', '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}0*[1-9][0-9]*([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])') THEN ' is more precise than a microsecond' WHEN regexp_full_match("_j"."timestamp" ->> '$', '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?') THEN ' has no time zone' WHEN regexp_full_match("_j"."timestamp" ->> '$', '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?[+-][0-9]{2}(:?[0-9]{2})?') THEN ' has a zone offset that is not ±hh:mm' ELSE ' is not a timestamp' END END
  ), '') END AS "_reason"
  FROM "enriched"
), "kept" AS (
  SELECT * EXCLUDE ("_raw"), CASE WHEN "_reason" IS NOT NULL THEN "_raw" END AS "_payload"
  FROM "checked"
)
SELECT
  "_v_event_id" AS "event_id",
  "_v_user_id" AS "user_id",
  "_v_event_type" AS "event_type",
  "_v_amount" AS "amount",
  "_v_timestamp" AS "timestamp",
  "country",
  "plan",
  nullif(concat_ws(',', CASE WHEN "_v_user_id" IS NOT NULL AND NOT "_m0" THEN 'users' END), '') AS "_missing_refs",
  "_ingested_at", "_topic", "_partition", "_offset",
  CAST("_v_timestamp" AT TIME ZONE 'UTC' AS DATE) AS "event_date",
  CAST(hour("_v_timestamp" AT TIME ZONE 'UTC') AS INTEGER) AS "event_hour",
  "_reason",
  "_payload",
  row_number() OVER (PARTITION BY ("_reason" IS NULL), "_v_event_id" ORDER BY "_v_timestamp", "_ingested_at", coalesce("_topic", ''), "_partition", "_offset") AS "_rank"
FROM "kept"
