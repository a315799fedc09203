"""notify: on-call staff are told, in time, that a case needs them. Publishes NotificationDelivered."""
