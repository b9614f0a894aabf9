WITH "decoded" AS (
  SELECT TRY(decode("payload")) AS "_text", "payload" AS "_raw", "topic" AS "_topic", "partition" AS "_partition", "offset" AS "_offset", "ingested_at" AS "_ingested_at"
  FROM "src"
), "strict" AS (
  SELECT *, CASE WHEN lakectl_json_strict("_text") THEN NULL ELSE lakectl_json_problem("_text") END AS "_problem"
  FROM "decoded"
), "parsed" AS (
  SELECT *, CASE WHEN "_problem" IS NULL THEN json_transform("_text", '{"id":"JSON","accountId":"JSON","level":"JSON","ts":"JSON"}') END AS "_j"
  FROM "strict"
), "typed" AS (
  SELECT *, json_type("_j"."id") AS "_t_id", json_type("_j"."accountId") AS "_t_account", json_type("_j"."level") AS "_t_level", json_type("_j"."ts") AS "_t_at"
  FROM "parsed"
), "converted" AS (
  SELECT *,
    CASE WHEN "_t_id" = 'VARCHAR' THEN "_j"."id" ->> '$' END AS "_v_id",
    CASE WHEN "_t_account" IN ('BIGINT', 'UBIGINT') THEN TRY_CAST("_j"."accountId" AS BIGINT) WHEN "_t_account" = 'DOUBLE' AND TRY_CAST("_j"."accountId" AS DOUBLE) = trunc(TRY_CAST("_j"."accountId" AS DOUBLE)) AND abs(TRY_CAST("_j"."accountId" AS DOUBLE)) <= 9007199254740992 THEN CAST(TRY_CAST("_j"."accountId" AS DOUBLE) AS BIGINT) END AS "_v_account",
    CASE WHEN "_t_level" IN ('BIGINT', 'UBIGINT') THEN TRY_CAST("_j"."level" AS BIGINT) WHEN "_t_level" = 'DOUBLE' AND TRY_CAST("_j"."level" AS DOUBLE) = trunc(TRY_CAST("_j"."level" AS DOUBLE)) AND abs(TRY_CAST("_j"."level" AS DOUBLE)) <= 9007199254740992 THEN CAST(TRY_CAST("_j"."level" AS DOUBLE) AS BIGINT) END AS "_v_level",
    CASE WHEN "_t_at" = 'VARCHAR' AND regexp_full_match("_j"."ts" ->> '$', '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6}0*)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])') AND isfinite(TRY_CAST(upper("_j"."ts" ->> '$') AS TIMESTAMPTZ)) THEN TRY_CAST(upper("_j"."ts" ->> '$') AS TIMESTAMPTZ) END AS "_v_at"
  FROM "typed"
), "enriched" AS (
  SELECT p.*, r0."plan" AS "plan", (r0."_k" IS NOT NULL) AS "_m0"
  FROM "converted" p
  LEFT JOIN (
    SELECT TRY_CAST("account_id" AS BIGINT) AS "_k", "plan"
    FROM "ref_plans" WHERE "_valid_to" IS NULL
    QUALIFY row_number() OVER (PARTITION BY TRY_CAST("account_id" AS BIGINT) ORDER BY "plan") = 1
  ) r0 ON r0."_k" = p."_v_account"
), "checked" AS (
  SELECT *, CASE WHEN "_text" IS NULL THEN 'payload: not valid UTF-8' WHEN "_problem" IS NOT NULL THEN 'payload: ' || "_problem" ELSE nullif(concat_ws('; ',
    CASE WHEN "_v_id" IS NOT NULL THEN CASE WHEN NOT regexp_matches("_v_id", '^c[0-9]+$') THEN 'id: ' || CAST(to_json("_v_id") AS VARCHAR) || ' does not match ^c[0-9]+$' END WHEN "_t_id" IS NULL THEN 'id: missing' ELSE 'id: ' || CAST("_j"."id" AS VARCHAR) || ' is not a string' END,
    CASE WHEN "_v_account" IS NOT NULL THEN NULL WHEN "_t_account" IS NULL THEN 'account: missing' ELSE 'account: ' || CAST("_j"."accountId" AS VARCHAR) || CASE WHEN "_t_account" IN ('BIGINT', 'UBIGINT') THEN ' is out of range for int' WHEN "_t_account" = 'DOUBLE' AND TRY_CAST("_j"."accountId" AS DOUBLE) <> trunc(TRY_CAST("_j"."accountId" AS DOUBLE)) THEN ' is not a whole number' WHEN "_t_account" = 'DOUBLE' THEN ' is out of range for int' ELSE ' is not an int' END END,
    CASE WHEN "_v_level" IS NOT NULL THEN CASE WHEN "_v_level" NOT IN (1, 2, 3) THEN 'level: ' || CAST("_v_level" AS VARCHAR) || ' is not one of 1, 2, 3' END WHEN "_t_level" IS NULL THEN NULL ELSE 'level: ' || CAST("_j"."level" AS VARCHAR) || CASE WHEN "_t_level" IN ('BIGINT', 'UBIGINT') THEN ' is out of range for int' WHEN "_t_level" = 'DOUBLE' AND TRY_CAST("_j"."level" AS DOUBLE) <> trunc(TRY_CAST("_j"."level" AS DOUBLE)) THEN ' is not a whole number' WHEN "_t_level" = 'DOUBLE' THEN ' is out of range for int' ELSE ' is not an int' END END,
    CASE WHEN "_v_at" IS NOT NULL THEN NULL WHEN "_t_at" IS NULL THEN 'at: missing' ELSE 'at: ' || CAST("_j"."ts" AS VARCHAR) || CASE WHEN "_t_at" <> 'VARCHAR' THEN ' is not a timestamp' WHEN regexp_full_match("_j"."ts" ->> '$', '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}0*[1-9][0-9]*([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])') THEN ' is more precise than a microsecond' WHEN regexp_full_match("_j"."ts" ->> '$', '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?') THEN ' has no time zone' WHEN regexp_full_match("_j"."ts" ->> '$', '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?[+-][0-9]{2}(:?[0-9]{2})?') THEN ' has a zone offset that is not ±hh:mm' ELSE ' is not a timestamp' END END,
    CASE WHEN "_v_account" IS NOT NULL AND NOT "_m0" THEN 'plans: no row for account ' || CAST("_v_account" AS VARCHAR) END
  ), '') END AS "_reason"
  FROM "enriched"
), "kept" AS (
  SELECT * EXCLUDE ("_raw"), CASE WHEN "_reason" IS NOT NULL THEN "_raw" END AS "_payload"
  FROM "checked"
)
SELECT
  "_v_id" AS "id",
  "_v_account" AS "account",
  "_v_level" AS "level",
  "_v_at" AS "at",
  "plan",
  CAST(NULL AS VARCHAR) AS "_missing_refs",
  "_ingested_at", "_topic", "_partition", "_offset",
  CAST("_v_at" AT TIME ZONE 'UTC' AS DATE) AS "event_date",
  CAST(hour("_v_at" AT TIME ZONE 'UTC') AS INTEGER) AS "event_hour",
  "_reason",
  "_payload",
  row_number() OVER (PARTITION BY ("_reason" IS NULL), "_v_id" ORDER BY "_v_at", "_ingested_at", coalesce("_topic", ''), "_partition", "_offset") AS "_rank"
FROM "kept"
