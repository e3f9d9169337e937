-- Review counts belong to the reviewer (reviews written: helpful ones, and the share that
-- agreed), as Top Reviewer means; they were counted for the reviewed user. Recounted from the
-- stored review events. Badges already awarded stay.
INSERT INTO users (id, name, created_at, updated_at)
SELECT DISTINCT e.body::json->>'reviewer_id', e.body::json->>'reviewer_id', 0, 0
FROM events e WHERE e.kind = 'review'
ON CONFLICT (id) DO NOTHING;
INSERT INTO user_stats (user_id)
SELECT DISTINCT e.body::json->>'reviewer_id' FROM events e WHERE e.kind = 'review'
ON CONFLICT (user_id) DO NOTHING;
UPDATE user_stats s SET
    reviews = (SELECT COUNT(*) FROM events e
               WHERE e.kind = 'review' AND e.body::json->>'reviewer_id' = s.user_id),
    reviews_agreed = (SELECT COUNT(*) FROM events e
               WHERE e.kind = 'review' AND e.body::json->>'reviewer_id' = s.user_id
                 AND (e.body::json->>'agreed')::boolean),
    helpful_reviews = (SELECT COUNT(*) FROM events e
               WHERE e.kind = 'review' AND e.body::json->>'reviewer_id' = s.user_id
                 AND (e.body::json->>'helpful')::boolean);
