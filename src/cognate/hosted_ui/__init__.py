"""The hosted sign-in pages (Cognito's managed login): forms, CSRF, templates, branding."""
