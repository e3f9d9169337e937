-- Review counts belong to the reviewer (reviews written: helpful ones, and the share that
-- agreed), as Top Reviewer means; they were counted for the reviewed user. Recounted from the
-- stored review events. Badges already awarded stay.
INSERT INTO users (id, name, created_at, updated_at)
SELECT DISTINCT json_extract(e.body, '$.reviewer_id'), json_extract(e.body, '$.reviewer_id'), 0, 0
FROM events e WHERE e.kind = 'review'
ON CONFLICT (id) DO NOTHING;
INSERT INTO user_stats (user_id)
SELECT DISTINCT json_extract(e.body, '$.reviewer_id') FROM events e WHERE e.kind = 'review'
ON CONFLICT (user_id) DO NOTHING;
UPDATE user_stats SET
    reviews = (SELECT COUNT(*) FROM events e
               WHERE e.kind = 'review' AND json_extract(e.body, '$.reviewer_id') = user_stats.user_id),
    reviews_agreed = (SELECT COUNT(*) FROM events e
               WHERE e.kind = 'review' AND json_extract(e.body, '$.reviewer_id') = user_stats.user_id
                 AND json_extract(e.body, '$.agreed') = 1),
    helpful_reviews = (SELECT COUNT(*) FROM events e
               WHERE e.kind = 'review' AND json_extract(e.body, '$.reviewer_id') = user_stats.user_id
                 AND json_extract(e.body, '$.helpful') = 1);
