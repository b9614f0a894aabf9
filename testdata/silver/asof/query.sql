WITH "decoded" AS (
  SELECT TRY(decode("payload")) AS "_text", "payload" AS "_raw", "topic" AS "_topic", "partition" AS "_partition", "offset" AS "_offset", "ingested_at" AS "_ingested_at"
  FROM "src"
), "strict" AS (
  SELECT *, CASE WHEN lakectl_json_strict("_text") THEN NULL ELSE lakectl_json_problem("_text") END AS "_problem"
  FROM "decoded"
), "parsed" AS (
  SELECT *, CASE WHEN "_problem" IS NULL THEN json_transform("_text", '{"event_id":"JSON","user_id":"JSON","at":"JSON"}') END AS "_j"
  FROM "strict"
), "typed" AS (
  SELECT *, json_type("_j"."event_id") AS "_t_event_id", json_type("_j"."user_id") AS "_t_user_id", json_type("_j"."at") AS "_t_at"
  FROM "parsed"
), "converted" AS (
  SELECT *,
    CASE WHEN "_t_event_id" = 'VARCHAR' THEN "_j"."event_id" ->> '$' END AS "_v_event_id",
    CASE WHEN "_t_user_id" = 'VARCHAR' THEN "_j"."user_id" ->> '$' END AS "_v_user_id",
    CASE WHEN "_t_at" = 'VARCHAR' AND regexp_full_match("_j"."at" ->> '$', '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6}0*)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])') AND isfinite(TRY_CAST(upper("_j"."at" ->> '$') AS TIMESTAMPTZ)) THEN TRY_CAST(upper("_j"."at" ->> '$') AS TIMESTAMPTZ) END AS "_v_at"
  FROM "typed"
), "enriched" AS (
  SELECT p.*, r0."plan" AS "plan", (r0."_k" IS NOT NULL) AS "_m0", r1."region" AS "region", (r1."_k" IS NOT NULL) AS "_m1"
  FROM "converted" p
  LEFT JOIN (
    SELECT TRY_CAST("user_id" AS VARCHAR) AS "_k", coalesce("_valid_from", '-infinity'::TIMESTAMPTZ) AS "_f", coalesce("_valid_to", 'infinity'::TIMESTAMPTZ) AS "_t", "plan"
    FROM "ref_plans"
  ) r0 ON r0."_k" = p."_v_user_id" AND p."_v_at" >= r0."_f" AND p."_v_at" < r0."_t"
  LEFT JOIN (
    SELECT TRY_CAST("user_id" AS VARCHAR) AS "_k", "region"
    FROM "ref_regions" WHERE "_valid_to" IS NULL
    QUALIFY row_number() OVER (PARTITION BY TRY_CAST("user_id" AS VARCHAR) ORDER BY "region") = 1
  ) r1 ON r1."_k" = p."_v_user_id"
), "checked" AS (
  SELECT *, CASE WHEN "_text" IS NULL THEN 'payload: not valid UTF-8' WHEN "_problem" IS NOT NULL THEN 'payload: ' || "_problem" ELSE nullif(concat_ws('; ',
    CASE WHEN "_v_event_id" IS NOT NULL THEN NULL WHEN "_t_event_id" IS NULL THEN 'event_id: missing' ELSE 'event_id: ' || CAST("_j"."event_id" AS VARCHAR) || ' is not a string' END,
    CASE WHEN "_v_user_id" IS NOT NULL THEN NULL WHEN "_t_user_id" IS NULL THEN 'user_id: missing' ELSE 'user_id: ' || CAST("_j"."user_id" AS VARCHAR) || ' is not a string' END,
    CASE WHEN "_v_at" IS NOT NULL THEN NULL WHEN "_t_at" IS NULL THEN 'at: missing' ELSE 'at: ' || CAST("_j"."at" AS VARCHAR) || CASE WHEN "_t_at" <> 'VARCHAR' THEN ' is not a timestamp' WHEN regexp_full_match("_j"."at" ->> '$', '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}0*[1-9][0-9]*([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])') THEN ' is more precise than a microsecond' WHEN regexp_full_match("_j"."at" ->> '$', '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?') THEN ' has no time zone' WHEN regexp_full_match("_j"."at" ->> '$', '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?[+-][0-9]{2}(:?[0-9]{2})?') THEN ' has a zone offset that is not ±hh:mm' ELSE ' is not a timestamp' END END,
    CASE WHEN "_v_user_id" IS NOT NULL AND NOT "_m1" THEN 'regions: no row for user_id ' || CAST(to_json("_v_user_id") AS VARCHAR) END
  ), '') END AS "_reason"
  FROM "enriched"
), "kept" AS (
  SELECT * EXCLUDE ("_raw"), CASE WHEN "_reason" IS NOT NULL THEN "_raw" END AS "_payload"
  FROM "checked"
)
SELECT
  "_v_event_id" AS "event_id",
  "_v_user_id" AS "user_id",
  "_v_at" AS "at",
  "plan",
  "region",
  nullif(concat_ws(',', CASE WHEN "_v_user_id" IS NOT NULL AND NOT "_m0" THEN 'plans' END), '') AS "_missing_refs",
  "_ingested_at", "_topic", "_partition", "_offset",
  CAST("_v_at" AT TIME ZONE 'UTC' AS DATE) AS "event_date",
  CAST(hour("_v_at" AT TIME ZONE 'UTC') AS INTEGER) AS "event_hour",
  "_reason",
  "_payload",
  row_number() OVER (PARTITION BY ("_reason" IS NULL), "_v_event_id" ORDER BY "_v_at", "_ingested_at", coalesce("_topic", ''), "_partition", "_offset") AS "_rank"
FROM "kept"
