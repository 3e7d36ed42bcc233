package main

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// 7. go-redis's PubSub over RESP3 (its default: messages arrive as push frames) and over RESP2: subscription
// confirmations with their counts, channel and pattern messages, receiver counts, PING inside the subscription,
// PUBSUB NUMSUB, and the subscriptions gone once the PubSub is closed.
func checkPubSub(ctx context.Context, addr string) (string, error) {
	for _, protocol := range []int{3, 2} {
		if err := pubSubRound(ctx, addr, protocol); err != nil {
			return "", fmt.Errorf("RESP%d: %w", protocol, err)
		}
	}
	return "subscribe/psubscribe/publish/ping/numsub/close over RESP3 and RESP2", nil
}

func pubSubRound(ctx context.Context, addr string, protocol int) error {
	rdb := newClient(addr, func(o *redis.Options) { o.Protocol = protocol })
	defer rdb.Close()
	channel := fmt.Sprintf("tc:ps:%d:news", protocol)
	pattern := fmt.Sprintf("tc:ps:%d:*", protocol)

	sub := rdb.Subscribe(ctx, channel)
	defer sub.Close()
	if err := expectSubscription(ctx, sub, "subscribe", channel, 1); err != nil {
		return err
	}
	if err := sub.PSubscribe(ctx, pattern); err != nil {
		return fmt.Errorf("PSUBSCRIBE: %w", err)
	}
	if err := expectSubscription(ctx, sub, "psubscribe", pattern, 2); err != nil {
		return err
	}

	if n, err := rdb.Publish(ctx, channel, "hello").Result(); err != nil || n != 2 {
		return fmt.Errorf("PUBLISH to a channel and a matching pattern = %d, %v; want 2", n, err)
	}
	want := []redis.Message{{Channel: channel, Payload: "hello"}, {Channel: channel, Pattern: pattern, Payload: "hello"}}
	for _, w := range want {
		msg, err := sub.ReceiveMessage(ctx)
		if err != nil {
			return fmt.Errorf("receiving %+v: %w", w, err)
		}
		if msg.Channel != w.Channel || msg.Pattern != w.Pattern || msg.Payload != w.Payload {
			return fmt.Errorf("got message %+v, want %+v", *msg, w)
		}
	}

	if err := sub.Ping(ctx, "still-there"); err != nil {
		return fmt.Errorf("PING inside the subscription: %w", err)
	}
	reply, err := sub.Receive(ctx)
	if err != nil {
		return fmt.Errorf("PING reply: %w", err)
	}
	if pong, ok := reply.(*redis.Pong); !ok || pong.Payload != "still-there" {
		return fmt.Errorf("PING reply %#v, want Pong{still-there}", reply)
	}

	counts, err := rdb.PubSubNumSub(ctx, channel).Result()
	if err != nil || counts[channel] != 1 {
		return fmt.Errorf("PUBSUB NUMSUB = %v, %v; want 1", counts, err)
	}

	if err := sub.Close(); err != nil {
		return fmt.Errorf("closing the PubSub: %w", err)
	}
	// The server drops the subscriptions when the connection goes; wait for it against a deadline.
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := rdb.Publish(ctx, channel, "after-close").Result()
		if err != nil {
			return fmt.Errorf("PUBLISH after close: %w", err)
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PUBLISH after the subscriber closed still reaches %d receivers", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func expectSubscription(ctx context.Context, sub *redis.PubSub, kind, name string, count int) error {
	reply, err := sub.Receive(ctx)
	if err != nil {
		return fmt.Errorf("%s confirmation: %w", kind, err)
	}
	s, ok := reply.(*redis.Subscription)
	if !ok || s.Kind != kind || s.Channel != name || s.Count != count {
		return fmt.Errorf("confirmation %#v, want %s %s %d", reply, kind, name, count)
	}
	return nil
}
