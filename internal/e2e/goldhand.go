package e2e

import "fmt"

// GoldByHand is the seed's two Gold models written by hand over the Silver rows of
// relation src, as the CTEs dm (daily_metrics) and ud (user_daily), for end-to-end
// tests that compare Gold with them: one definition, so every test follows the
// models when they change.
func GoldByHand(src string) string {
	return fmt.Sprintf(`dm AS (
  SELECT event_date, event_type, count(DISTINCT user_id) AS unique_users, count(*) AS events,
    CAST(coalesce(sum(amount), 0) AS DECIMAL(18, 2)) AS total_amount,
    CAST(sum(amount) / count(amount) AS DECIMAL(18, 2)) AS avg_amount,
    min("timestamp") AS first_event_at, max("timestamp") AS last_event_at
  FROM %[1]s GROUP BY event_date, event_type),
ud AS (
  SELECT event_date, user_id, plan, count(*) AS events,
    CAST(coalesce(sum(CASE WHEN event_type = 'purchase' THEN amount END), 0) AS DECIMAL(18, 2)) AS spend,
    list_sort(list_distinct(list(event_type))) AS event_types
  FROM %[1]s GROUP BY event_date, user_id, plan)`, src)
}
