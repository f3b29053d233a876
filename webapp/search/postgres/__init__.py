"""The PostgreSQL search engine: documents and their tsvectors in the database itself."""
