package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/camau-cns/cnsbot"
)

// FeatureTransaction is Zalo's transaction message (REMINDER_CHANNEL=transaction).
const FeatureTransaction = "transaction"

// MaxTransactionButtons is the most buttons of a transaction message, and
// MaxTransactionButtonTitle the longest title of one (Zalo's v3 page).
const (
	MaxTransactionButtons     = 4
	MaxTransactionButtonTitle = 35
)

// txButton is a transaction message's button: the page marks image_icon
// required, "default" (or empty) meaning Zalo's own icon.
type txButton struct {
	outButton
	ImageIcon string `json:"image_icon"`
}

// ChannelLog is optionally implemented by a DeliveryLog (store.DB does)
// that records a message delivered by another path than the one asked for,
// with the code and reason of the first path's refusal.
type ChannelLog interface {
	DeliveredVia(ctx context.Context, m cnsbot.Outgoing, zaloMsgID, channel string, code int, reason string) error
}

// SendTransaction sends a transaction message (POST
// /v3.0/oa/message/transaction, template transaction_event): a header, a
// text and up to four buttons. Zalo's v3 page says such messages reach
// users who interacted with the OA within a year, at any hour; third-party
// notes say they moved to paid templates in 2026 (unsure), so the path is
// optional and a refusal is learnt like a refused list.
func (c *Client) SendTransaction(ctx context.Context, userID, lang, header, text string, buttons []cnsbot.Button) (string, error) {
	if userID == "" || strings.TrimSpace(header) == "" {
		return "", cnsbot.Errorf(cnsbot.EINVALID, "transaction message needs a user and a header")
	}
	if len(buttons) > MaxTransactionButtons {
		buttons = buttons[:MaxTransactionButtons]
	}
	wire := make([]txButton, 0, len(buttons))
	for i, b := range buttons {
		b.Title = truncate(b.Title, MaxTransactionButtonTitle)
		w, err := toOutButton(b)
		if err != nil {
			return "", fmt.Errorf("button %d: %w", i+1, err)
		}
		wire = append(wire, txButton{outButton: w, ImageIcon: "default"})
	}
	language := "VI"
	if strings.HasPrefix(lang, "en") {
		language = "EN"
	}
	elements := []map[string]any{{"type": "header", "content": truncate(header, MaxFormTitle), "align": "left"}}
	if t := strings.TrimSpace(text); t != "" {
		// The page's example breaks lines with <br>.
		elements = append(elements, map[string]any{"type": "text", "align": "left", "content": strings.ReplaceAll(t, "\n", "<br>")})
	}
	body := map[string]any{
		"recipient": map[string]string{"user_id": userID},
		"message": map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{
			"template_type": "transaction_event", "language": language, "elements": elements, "buttons": wire,
		}}},
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	var data struct {
		MessageID flexString `json:"message_id"`
	}
	if err := c.call(ctx, http.MethodPost, "/v3.0/oa/message/transaction", raw, &data); err != nil {
		return "", fmt.Errorf("send transaction: %w", err)
	}
	// Its echo is the bot's own too: it must not pause the bot.
	c.sent.remember(ctx, cnsbot.Recipient{UserID: userID}, string(data.MessageID))
	return string(data.MessageID), nil
}

// viaTransaction tries to deliver a reminder that Zalo refused as a
// consultation message for the 7-day window, as a transaction message. It
// reports whether it decided m's fate (delivered, or to be retried); false
// means go on to the group fallback.
func (s *Sender) viaTransaction(ctx context.Context, m cnsbot.Outgoing, p *progress, code int, reason string) (bool, error) {
	if s.caps.refused(ctx, FeatureTransaction) {
		return false, nil
	}
	id, err := s.c.SendTransaction(ctx, m.To.UserID, m.Lang, m.Text, m.Subtitle, m.Buttons)
	if err != nil {
		switch c := Classify(err); {
		case c == ClassRetry || c == ClassRefresh || c == ClassQuota:
			s.count("retry")
			return true, fmt.Errorf("deliver as transaction: %w", err)
		case refusedShape(err) || c == ClassSetup:
			s.learn(ctx, FeatureTransaction, err)
		default:
			s.logger.Info("transaction message refused too", "id", m.ID, "code", Code(err), "reason", Reason(err))
		}
		return false, nil
	}
	s.learn(ctx, FeatureTransaction, nil)
	p.sent, p.ids = true, append(p.ids, id)
	s.sentIDs(ctx, m, []string{id})
	if cl, ok := s.dlog.(ChannelLog); ok {
		err = cl.DeliveredVia(ctx, m, id, FeatureTransaction, code, reason)
	} else {
		err = s.dlog.Delivered(ctx, m, id)
	}
	if err != nil {
		s.count("error")
		return true, fmt.Errorf("deliver: record transaction: %w", err)
	}
	s.finish(m.ID)
	s.count("transaction")
	s.logger.Info("reminder sent as a transaction message", "id", m.ID, "code", code, "reason", reason)
	return true, nil
}
