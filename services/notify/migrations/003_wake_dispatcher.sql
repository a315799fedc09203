-- Wake the dispatcher when deliveries are planned, at the commit that planned them: an urgent
-- notification leaves at once instead of waiting for the dispatcher's next poll.
CREATE FUNCTION deliveries_planned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('deliveries', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER deliveries_planned AFTER INSERT ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_planned();
