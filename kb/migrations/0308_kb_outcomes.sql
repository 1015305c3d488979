-- How an operator's conversation ended: the list the desk offers at close, kept in the knowledge base so
-- editors change it like any other wording. A retired outcome stays for the calls that carry it but is no
-- longer offered. Not part of the KB's revision stamp: the NLU does not depend on it.
CREATE TABLE IF NOT EXISTS kb_outcomes (
  id       text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]*$'),
  title    text NOT NULL,
  position integer NOT NULL DEFAULT 0,
  retired  boolean NOT NULL DEFAULT false
);
INSERT INTO kb_outcomes (id, title, position) VALUES
  ('answered', 'Вопрос решён', 1),
  ('forwarded', 'Переадресован в ведомство', 2),
  ('inquiry', 'Зарегистрировано обращение', 3),
  ('callback', 'Назначен обратный звонок', 4),
  ('info', 'Дана справка по скрипту', 5),
  ('wrong_number', 'Ошибочный звонок', 6),
  ('abuse', 'Хулиганский звонок', 7),
  ('no_answer', 'Абонент не ответил', 8),
  ('other', 'Другое', 9)
ON CONFLICT (id) DO NOTHING;
