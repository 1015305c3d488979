-- The written form of a prompt for the text chat («напишите», «выберите», numbers in digits: 112, 103, 122)
-- beside the spoken form in `text` («нажмите один», «сто двенадцать»). NULL: the chat shows the spoken form.
ALTER TABLE prompts ADD COLUMN chat text;
