"""intake: where a case enters the backbone (相談受付). Owns consultations; publishes ConsultationReceived."""
