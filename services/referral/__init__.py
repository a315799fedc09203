"""referral: every consultation gets an agency that owns it (受け止め・つなぐ). Publishes ReferralProposed."""
