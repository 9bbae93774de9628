/* Lexer of the expression language: numbers, names, operators. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"

void sg_lex_init(sg_lexer *lx, const char *text)
{
    memset(lx, 0, sizeof *lx);
    lx->text = text;
    sg_lex_next(lx);
}

/* number := digits [ '.' digits ] [ (e|E) [+|-] digits ] | '.' digits ... */
static int scan_number(const char *s)
{
    int i = 0, digits = 0;
    while (isdigit((unsigned char)s[i]))
        i++, digits++;
    if (s[i] == '.') {
        i++;
        while (isdigit((unsigned char)s[i]))
            i++, digits++;
    }
    if (!digits)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        int j = i + 1;
        if (s[j] == '+' || s[j] == '-')
            j++;
        if (!isdigit((unsigned char)s[j]))
            return -(j); /* exponent without digits */
        while (isdigit((unsigned char)s[j]))
            j++;
        i = j;
    }
    return i;
}

void sg_lex_next(sg_lexer *lx)
{
    const char *s = lx->text;
    int i = lx->next;
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
        i++;
    lx->pos = i;
    lx->len = 1;
    char c = s[i];
    if (c == '\0') {
        lx->kind = TK_EOF;
        lx->len = 0;
        lx->next = i;
        return;
    }
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)s[i + 1]))) {
        int n = scan_number(s + i);
        if (n <= 0) {
            lx->kind = TK_ERROR;
            lx->len = n < 0 ? -n : 1;
        } else {
            lx->kind = TK_NUMBER;
            lx->number = strtod(s + i, NULL);
            lx->len = n;
            if (isalpha((unsigned char)s[i + n]) || s[i + n] == '_') {
                lx->kind = TK_ERROR; /* "2x": a number glued to a name */
                lx->len = n + 1;
            }
        }
        lx->next = i + lx->len;
        return;
    }
    if (isalpha((unsigned char)c) || c == '_') {
        int n = 1;
        while (isalnum((unsigned char)s[i + n]) || s[i + n] == '_')
            n++;
        lx->kind = TK_NAME;
        lx->len = n;
        lx->next = i + n;
        return;
    }
    lx->kind = TK_OP;
    char d = s[i + 1];
    switch (c) {
    case '+': lx->op = OPT_PLUS; break;
    case '-': lx->op = OPT_MINUS; break;
    case '*': lx->op = OPT_STAR; break;
    case '/': lx->op = OPT_SLASH; break;
    case '^': lx->op = OPT_CARET; break;
    case '(': lx->op = OPT_LPAREN; break;
    case ')': lx->op = OPT_RPAREN; break;
    case ',': lx->op = OPT_COMMA; break;
    case '@': lx->op = OPT_AT; break;
    case '<': lx->op = d == '=' ? (lx->len = 2, OPT_LE) : OPT_LT; break;
    case '>': lx->op = d == '=' ? (lx->len = 2, OPT_GE) : OPT_GT; break;
    case '=':
        if (d == '=') { lx->op = OPT_EQ; lx->len = 2; }
        else lx->kind = TK_ERROR;
        break;
    case '!': lx->op = d == '=' ? (lx->len = 2, OPT_NE) : OPT_NOT; break;
    case '&':
        if (d == '&') { lx->op = OPT_AND; lx->len = 2; }
        else lx->kind = TK_ERROR;
        break;
    case '|':
        if (d == '|') { lx->op = OPT_OR; lx->len = 2; }
        else lx->kind = TK_ERROR;
        break;
    default:
        lx->kind = TK_ERROR;
        /* a whole UTF-8 sequence counts as one bad character */
        if ((unsigned char)c >= 0x80)
            while (((unsigned char)s[i + lx->len] & 0xC0) == 0x80)
                lx->len++;
    }
    lx->next = i + lx->len;
}

void sg_lex_token_text(const sg_lexer *lx, char *buf, size_t size)
{
    if (lx->kind == TK_EOF) {
        snprintf(buf, size, "end of expression");
        return;
    }
    int n = lx->len > 40 ? 40 : lx->len;
    snprintf(buf, size, "'%.*s'", n, lx->text + lx->pos);
}
