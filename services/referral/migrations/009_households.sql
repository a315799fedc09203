-- A referral is about one person, even when the case is a household's (8050: a parent and a child, one case).
-- NULL for referrals proposed before it was kept, and for a plan's roles: those are about the case's person.
ALTER TABLE referrals ADD COLUMN about_person uuid;
