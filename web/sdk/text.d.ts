// Types of @tfcls/sdk/text (text.js): the text cleaning of tfcls/text.py.

/** A title ending in one of these characters is joined to the description by " ". */
export declare const SENTENCE_END: string;

/**
 * Normalise a title or description: markup out, words kept (tfcls.text.clean_text).
 * Throws a TypeError for a non-string.
 */
export declare function cleanText(text: string): string;

/**
 * The model input "title. description": both cleaned; an empty part gives the other alone;
 * a title ending in SENTENCE_END is joined by one space (tfcls.text.join_title_description).
 */
export declare function joinTitleDescription(title: string, description?: string | null): string;
