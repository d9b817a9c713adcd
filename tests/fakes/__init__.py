"""Stand-ins for the outside parties the service talks to (mail, SMS and webhook receivers)."""
